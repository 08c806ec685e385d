#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/client_internal.h"
#include "common/address.h"
#include "common/hlc.h"
#include "common/limits.h"
#include "common/rpc_status.h"
#include "common/status_macros.h"
#include "common/replica_router.h"
#include "common/write_outcome.h"

namespace quorumkv {
namespace {

// A node's UNAVAILABLE without a typed detail means the request did not
// reach a coordinator that could act on it (the node is unreachable or has
// no directory yet): another replica may serve it.
bool NodeUnreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) && !GetErrorDetail(status);
}

std::string StateName(NodeState state) {
  return state == NODE_STATE_UNKNOWN ? "UNKNOWN" : NodeState_Name(state);
}

ReplicaLocation ToLocation(const NodeDescriptor& node, NodeState state) {
  return {node.id(), node.address(), node.rack(), StateName(state), node.name()};
}

WriteResult ToWriteResult(const Version& version, uint32_t acks,
                          bool existed = false) {
  return {VersionToString(version), acks, existed};
}

}  // namespace

absl::StatusOr<QueryMode> ParseQueryMode(absl::string_view text) {
  if (text == "iterative") return QueryMode::kIterative;
  if (text == "recursive") return QueryMode::kRecursive;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown mode '", text, "' (use iterative or recursive)"));
}

const char* QueryModeName(QueryMode mode) {
  return mode == QueryMode::kIterative ? "iterative" : "recursive";
}

// A recursive request: its tries over the masters.
template <typename Request>
struct internal::ClientImpl::Call {
  using Response = typename KvMethod<Request>::Response;
  Request request;
  absl::Time deadline;
  std::function<void(absl::StatusOr<Response>)> done;
  // Masters that could not be reached (or hung) during this call.
  absl::flat_hash_set<std::string> avoid;
  absl::Status last_error = absl::UnavailableError("no attempt made");
  // Writes: whether an attempt may have been applied.
  WriteAttempts attempts;
};

namespace {

// Client::Create checked the list; a ClientImpl made directly (tests) with
// a bad one gets calls that fail naming it.
std::unique_ptr<MasterSet> MakeMasters(const std::string& list,
                                       const ChannelSecurity& security) {
  absl::StatusOr<std::unique_ptr<MasterSet>> masters =
      MasterSet::Create("master address", list, security);
  if (masters.ok()) return *std::move(masters);
  return *MasterSet::Create("master address", "invalid-master-list:1",
                            security);
}

}  // namespace

// The master API's channels and the recursive mode's streams to the
// masters have the same arguments, so gRPC gives each master one
// connection.
internal::ClientImpl::ClientImpl(const ClientOptions& options,
                                 std::shared_ptr<const TlsConfig> tls)
    : options_(options),
      masters_(MakeMasters(options.master, ChannelSecurity{options.token, tls})),
      streams_(ChannelSecurity{options.token, tls}),
      routing_(masters_.get(), [this](const absl::Status& status) {
        return MasterError(status, "");
      }) {}

internal::ClientImpl::~ClientImpl() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

std::string internal::ClientImpl::MasterError(const absl::Status& status,
                                              absl::string_view master) const {
  // Errors of MasterSet::Call name the masters already.
  const std::string who =
      master.empty() ? "" : absl::StrCat("master ", master, ": ");
  if (absl::IsUnimplemented(status)) {
    // What a storage node (or any other gRPC server) answers to the
    // master's methods: its message is empty.
    return absl::StrCat(master.empty() ? "master " + masters_->list() + ": "
                                       : who,
                        "does not serve the master's API (UNIMPLEMENTED); "
                        "is it a storage node? --master takes the master's "
                        "address");
  }
  if (status.message().empty()) {
    return absl::StrCat(who, absl::StatusCodeToString(status.code()),
                        " with no message");
  }
  // A TLS server closes a plaintext connection at once: what gRPC then
  // reports says nothing of TLS.
  const bool maybe_tls = options_.tls_dir.empty() && absl::IsUnavailable(status) &&
                         absl::StrContains(status.message(), "Socket closed");
  return absl::StrCat(who, PlainConnectError(status.message()),
                      maybe_tls ? " (does the cluster use TLS? then this "
                                  "client needs a TLS directory: kvcli "
                                  "--tls_dir or $KV_TLS_DIR)"
                                : "");
}

template <typename Request>
void internal::ClientImpl::Submit(
    Request request, absl::Time deadline,
    std::function<void(absl::StatusOr<typename KvMethod<Request>::Response>)>
        done) {
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  if (options_.mode == QueryMode::kIterative) {
    RouteOptions route;
    // Writes go to the first replica, whose role placement spreads over
    // the nodes; reads take turns over the replicas, so that every replica
    // serves.
    if constexpr (std::is_same_v<Request, GetRequest> ||
                  std::is_same_v<Request, ScanRequest>) {
      route.first = next_reader_.fetch_add(1, std::memory_order_relaxed);
    }
    ReplicaRoute<Request>::Start(
        &routing_, &streams_, &timers_, std::move(request), deadline,
        std::move(route),
        [this, done = std::move(done)](
            absl::StatusOr<typename KvMethod<Request>::Response> result) {
          done(std::move(result));
          absl::MutexLock lock(&mu_);
          --in_flight_;
        });
    return;
  }
  auto call = std::make_shared<Call<Request>>();
  call->request = std::move(request);
  call->deadline = deadline;
  call->done = std::move(done);
  Attempt(std::move(call));
}

void internal::ClientImpl::CallBackSoon(std::function<void()> callback) {
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  timers_.RunAt(absl::InfinitePast(), [this, callback = std::move(callback)] {
    callback();
    absl::MutexLock lock(&mu_);
    --in_flight_;
  });
}

template <typename Request>
void internal::ClientImpl::Finish(
    const std::shared_ptr<Call<Request>>& call,
    absl::StatusOr<typename KvMethod<Request>::Response> result) {
  if constexpr (KvMethod<Request>::kWrites) {
    if (!result.ok()) {
      result = call->attempts.Outcome(result.status(),
                                      KvMethod<Request>::Quorum(call->request));
    }
  }
  auto done = std::move(call->done);
  done(std::move(result));
  absl::MutexLock lock(&mu_);
  --in_flight_;
}

template <typename Request>
void internal::ClientImpl::Attempt(std::shared_ptr<Call<Request>> call) {
  if (absl::Now() >= call->deadline) {
    Finish(call, absl::DeadlineExceededError(absl::StrCat(
                     "request timed out; last error: ",
                     call->last_error.message())));
    return;
  }
  AttemptRecursive(std::move(call));
}

template <typename Request>
void internal::ClientImpl::AttemptRecursive(std::shared_ptr<Call<Request>> call) {
  // The next master in turn (every master relays, so requests spread over
  // them), or the next one this call has not failed on.
  size_t master = masters_->NextRelay();
  for (size_t i = 0; i < masters_->size() &&
                     call->avoid.contains(masters_->address(master));
       ++i) {
    master = (master + 1) % masters_->size();
  }
  if (call->avoid.contains(masters_->address(master))) {
    Finish(call, absl::Status(call->last_error.code(),
                              absl::StrCat(masters_->size() > 1
                                               ? "no master answered: "
                                               : "",
                                           call->last_error.message())));
    return;
  }
  const std::string address = masters_->address(master);
  // With masters left to try, this one gets its share of the time left: a
  // master that hangs (paused, overloaded) leaves time for the next.
  size_t left = 0;
  for (size_t i = 0; i < masters_->size(); ++i) {
    left += !call->avoid.contains(masters_->address(i));
  }
  const absl::Time now = absl::Now();
  const absl::Time attempt_deadline =
      left > 1 ? std::min(call->deadline,
                          now + (call->deadline - now) / static_cast<double>(left))
               : call->deadline;
  streams_.Get(address)->Send(
      Batched(call->request, attempt_deadline), attempt_deadline,
      [this, call, master, address](absl::StatusOr<KvReply> reply) {
        if (!reply.ok()) call->attempts.Failed(reply.status());
        const bool hung = !reply.ok() &&
                          absl::IsDeadlineExceeded(reply.status()) &&
                          !GetErrorDetail(reply.status()) &&
                          absl::Now() < call->deadline;
        if (reply.ok()) {
          Finish(call, std::move(*KvMethod<Request>::Unwrap(*reply)));
        } else if (!KvMethod<Request>::kIdempotent &&
                   (NodeUnreachable(reply.status()) || hung) &&
                   MayHaveBeenApplied(reply.status())) {
          Finish(call, OutcomeUnknown(absl::Status(
                           reply.status().code(),
                           MasterError(reply.status(), address))));
        } else if (NodeUnreachable(reply.status()) || hung) {
          // Reaching the master failed, or it could not reach a replica:
          // another master may do better. A coordinator's answer relayed
          // with its typed detail is passed on as it is, as in iterative
          // mode.
          call->last_error = absl::Status(
              reply.status().code(), MasterError(reply.status(), address));
          call->avoid.insert(address);
          masters_->RelayFailed(master);
          Attempt(call);
        } else if (GetWrongNode(reply.status())) {
          // The master's relay never answers WrongNode: a storage node did.
          Finish(call, absl::FailedPreconditionError(absl::StrCat(
                           "master ", address, " answered as a storage node (",
                           reply.status().message(),
                           "); --master takes the master's address")));
        } else {
          Finish(call, reply.status());
        }
      });
}

absl::Status internal::ClientImpl::SyncRefresh() {
  absl::Notification fetched;
  absl::Status result;
  routing_.Refresh(absl::Now() + options_.timeout, [&](absl::Status status) {
    result = std::move(status);
    fetched.Notify();
  });
  fetched.WaitForNotification();
  if (!result.ok()) return absl::Status(result.code(), MasterError(result, ""));
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> internal::ClientImpl::ReplicationFactor() {
  if (routing_.Get()->replication() == 0) RETURN_IF_ERROR(SyncRefresh());
  return routing_.Get()->replication();
}

template <typename Request, typename Response>
absl::Status internal::ClientImpl::CallMaster(
    grpc::Status (MasterService::Stub::*method)(grpc::ClientContext*,
                                                const Request&, Response*),
    const Request& request, Response* response) {
  // Each master gets its share of the timeout: one that hangs leaves time
  // for the next.
  const absl::Duration timeout =
      std::max(options_.timeout / static_cast<double>(masters_->size()),
               std::min(options_.timeout, absl::Seconds(1)));
  absl::Status status =
      masters_->Call(method, request, response, timeout);
  // The master's own answers (bad argument, refusal, not formed) speak
  // for themselves.
  if (status.ok() || ((absl::IsInvalidArgument(status) ||
                       absl::IsFailedPrecondition(status) ||
                       absl::IsNotFound(status)) &&
                      !status.message().empty())) {
    return status;
  }
  // MasterSet names the masters that could not be reached; an answer came
  // from the preferred one.
  return absl::Status(
      status.code(),
      MasterError(status, MasterUnreachable(status)
                              ? ""
                              : masters_->address(masters_->preferred())));
}

MasterList internal::ClientImpl::Masters() {
  MasterList list;
  for (size_t i = 0; i < masters_->size(); ++i) {
    MasterRole& role = list.masters.emplace_back();
    role.address = masters_->address(i);
    grpc::ClientContext context;
    SetTimeout(context, std::min(options_.timeout, absl::Seconds(2)));
    MastersResponse response;
    absl::Status status = FromGrpcStatus(
        masters_->stub(i)->Masters(&context, MastersRequest(), &response));
    if (!status.ok()) {
      role.role = "unreachable";
      role.problem = MasterError(status, "");
      continue;
    }
    role.role = response.role();
    role.term = response.term();
    role.leader = response.leader();
    role.problem = response.problem();
    if (role.role == "leader" && role.term >= list.term) {
      list.leader = role.address;
      list.term = role.term;
    }
  }
  return list;
}

absl::StatusOr<KeyLocation> internal::ClientImpl::Where(absl::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  LookupRequest request;
  request.set_key(std::string(key));
  LookupResponse response;
  RETURN_IF_ERROR(CallMaster(&MasterService::Stub::Lookup, request, &response));
  KeyLocation location;
  location.partition = response.partition();
  location.epoch = response.epoch();
  for (const ReplicaInfo& replica : response.replicas()) {
    location.replicas.push_back(ToLocation(replica.node(), replica.state()));
  }
  for (const ReplicaInfo& replica : response.joining()) {
    location.joining.push_back(ToLocation(replica.node(), replica.state()));
  }
  return location;
}

absl::StatusOr<ClusterSummary> internal::ClientImpl::Nodes() {
  ClusterStatusResponse response;
  RETURN_IF_ERROR(CallMaster(&MasterService::Stub::ClusterStatus,
                             ClusterStatusRequest(), &response));
  ClusterSummary summary;
  summary.epoch = response.epoch();
  summary.formed = response.directory_formed();
  summary.registered_nodes = response.registered_nodes();
  summary.initial_nodes = response.initial_nodes();
  summary.partitions = response.partitions();
  summary.replication = response.replication();
  summary.under_replicated = response.under_replicated();
  summary.node_down_after_ms = response.node_down_after_ms();
  summary.replace_after_ms = response.replace_after_ms();
  summary.misplaced = response.misplaced();
  summary.anti_entropy_compared = response.anti_entropy_compared();
  summary.anti_entropy_oldest_ms = response.anti_entropy_oldest_ms();
  summary.anti_entropy_rows_exchanged = response.anti_entropy_rows_exchanged();
  summary.anti_entropy_bytes_exchanged =
      response.anti_entropy_bytes_exchanged();
  summary.anti_entropy_diverged = response.anti_entropy_diverged();
  summary.leader = response.leader();
  summary.term = response.term();
  summary.leader_problem = response.leader_problem();
  summary.answered_by = response.answered_by();
  summary.stale_reason = response.stale_reason();
  summary.moves = response.moves();
  for (const HotKey& k : response.hot_keys()) {
    summary.hot_keys.push_back(
        {k.key(), k.partition(), k.reads_per_sec(), k.writes_per_sec()});
  }
  for (const HotPartition& p : response.hot_partitions()) {
    summary.hot_partitions.push_back(
        {p.partition(), p.reads_per_sec(), p.writes_per_sec(),
         std::vector<std::string>(p.replicas().begin(), p.replicas().end())});
  }
  for (const NodeStatus& node : response.nodes()) {
    NodeSummary n;
    n.node = ToLocation(node.node(), node.state());
    n.partitions = node.partitions();
    n.joining = node.joining();
    n.keys = node.load().keys();
    n.bytes = node.load().bytes();
    n.free_bytes = node.load().free_bytes();
    n.reads_per_sec = node.load().reads_per_sec();
    n.writes_per_sec = node.load().writes_per_sec();
    n.pending_hints = node.load().pending_hints();
    const CacheLoad& cache = node.load().cache();
    n.cache = {cache.hits(), cache.misses(), cache.evictions(), cache.bytes(),
               cache.capacity_bytes()};
    n.last_heartbeat_ms_ago = node.last_heartbeat_ms_ago();
    n.directory_epoch = node.directory_epoch();
    summary.nodes.push_back(std::move(n));
  }
  return summary;
}

namespace {

std::vector<MoveInfo> ToMoves(
    const google::protobuf::RepeatedPtrField<MoveStatus>& moves) {
  std::vector<MoveInfo> result;
  for (const MoveStatus& m : moves) {
    MoveInfo& info = result.emplace_back();
    info.partition = m.move().partition();
    info.from = m.move().from_node();
    info.to = m.move().to_node();
    info.reason = MoveReasonName(m.move().reason());
    info.state = m.state();
    info.bytes_streamed = m.bytes_streamed();
    info.started_ms = m.move().started_ms();
    info.finished_ms = m.finished_ms();
    info.why = m.why();
  }
  return result;
}

}  // namespace

absl::StatusOr<MoveList> internal::ClientImpl::Moves() {
  ListMovesResponse response;
  RETURN_IF_ERROR(CallMaster(&MasterService::Stub::ListMoves,
                             ListMovesRequest(), &response));
  return MoveList{response.epoch(), ToMoves(response.moves()),
                  ToMoves(response.recent())};
}

absl::StatusOr<MoveList> internal::ClientImpl::Plan() {
  PlanResponse response;
  RETURN_IF_ERROR(
      CallMaster(&MasterService::Stub::Plan, PlanRequest(), &response));
  return MoveList{response.epoch(), ToMoves(response.moves()), {}};
}

absl::StatusOr<DecommissionResult> internal::ClientImpl::Decommission(
    const std::string& node_id, bool dry_run) {
  if (node_id.empty()) return absl::InvalidArgumentError("node id is empty");
  DecommissionRequest request;
  request.set_node_id(node_id);
  request.set_dry_run(dry_run);
  DecommissionResponse response;
  RETURN_IF_ERROR(
      CallMaster(&MasterService::Stub::Decommission, request, &response));
  return DecommissionResult{response.epoch(), ToMoves(response.moves()),
                            response.removed()};
}

// --- Client ---------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Client>> Client::Create(
    const ClientOptions& options) {
  RETURN_IF_ERROR(ParseAddressList("master address", options.master).status());
  if (options.w < 0 || options.r < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "W=", options.w, " R=", options.r, ": quorums must be 1..N (0: default)"));
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout must be positive");
  }
  std::shared_ptr<const TlsConfig> tls;
  if (!options.tls_dir.empty()) {
    ASSIGN_OR_RETURN(tls, LoadTlsDir(options.tls_dir, "tls_dir", /*signed_by_ca=*/false));
  }
  return std::make_unique<Client>(
      std::make_unique<internal::ClientImpl>(options, std::move(tls)));
}

std::optional<QuorumFailure> GetQuorumFailure(const absl::Status& status) {
  std::optional<QuorumNotReached> q = GetQuorumNotReached(status);
  if (!q) return std::nullopt;
  return QuorumFailure{q->acknowledged(), q->required(), q->replicas(),
                       q->attempted(), q->unanswered()};
}

Client::Client(std::unique_ptr<internal::ClientImpl> impl)
    : impl_(std::move(impl)) {}
Client::~Client() = default;

namespace {

// Validates a request before anything is sent and returns its deadline:
// INVALID_ARGUMENT for quorums below zero, a bad key or (when given) an
// over-size value.
absl::StatusOr<absl::Time> Admit(const ClientOptions& defaults,
                                 const RequestOptions& options,
                                 absl::string_view key,
                                 const absl::string_view* value = nullptr) {
  if (options.w < 0 || options.r < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "W=", options.w, " R=", options.r, ": quorums must be 1..N"));
  }
  RETURN_IF_ERROR(ValidateKey(key));
  if (value != nullptr) RETURN_IF_ERROR(ValidateValue(*value));
  const absl::Duration timeout = options.timeout > absl::ZeroDuration()
                                     ? options.timeout
                                     : defaults.timeout;
  return absl::Now() + timeout;
}

ReadResult ToReadResult(GetResponse response) {
  return ReadResult{std::move(*response.mutable_value()),
                    VersionToString(response.version()),
                    response.expires_at_ms()};
}

int Pick(int requested, int fallback) {
  return requested != 0 ? requested : fallback;
}

// `ttl` in whole ms (a part of a ms rounds up, so that 1us is not "none").
absl::StatusOr<uint64_t> TtlMillis(absl::Duration ttl, bool zero_ok) {
  if (ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TTL ", absl::FormatDuration(ttl), " is negative"));
  }
  const uint64_t ms = static_cast<uint64_t>(
      absl::ToInt64Milliseconds(absl::Ceil(ttl, absl::Milliseconds(1))));
  RETURN_IF_ERROR(ValidateTtl(ms, zero_ok));
  return ms;
}

}  // namespace

void Client::PutAsync(absl::string_view key, absl::string_view value,
                      const RequestOptions& options, WriteCallback done) {
  auto deadline = Admit(impl_->options(), options, key, &value);
  if (!deadline.ok()) {
    return impl_->CallBackSoon(
        [done = std::move(done), status = deadline.status()] { done(status); });
  }
  absl::StatusOr<uint64_t> ttl_ms = TtlMillis(options.ttl, /*zero_ok=*/true);
  if (!ttl_ms.ok()) {
    return impl_->CallBackSoon(
        [done = std::move(done), status = ttl_ms.status()] { done(status); });
  }
  PutRequest request;
  request.set_key(std::string(key));
  request.set_value(std::string(value));
  request.set_w(Pick(options.w, impl_->options().w));
  request.set_ttl_ms(*ttl_ms);
  impl_->Submit(std::move(request), *deadline,
                [done = std::move(done)](absl::StatusOr<PutResponse> r) {
                  if (!r.ok()) return done(r.status());
                  done(ToWriteResult(r->version(), r->acks()));
                });
}

void Client::DeleteAsync(absl::string_view key, const RequestOptions& options,
                         WriteCallback done) {
  auto deadline = Admit(impl_->options(), options, key);
  if (!deadline.ok()) {
    return impl_->CallBackSoon(
        [done = std::move(done), status = deadline.status()] { done(status); });
  }
  DeleteRequest request;
  request.set_key(std::string(key));
  request.set_w(Pick(options.w, impl_->options().w));
  impl_->Submit(std::move(request), *deadline,
                [done = std::move(done)](absl::StatusOr<DeleteResponse> r) {
                  if (!r.ok()) return done(r.status());
                  done(ToWriteResult(r->version(), r->acks(), r->existed()));
                });
}

void Client::ExpireAsync(absl::string_view key, absl::Duration ttl,
                         const RequestOptions& options, WriteCallback done) {
  auto deadline = Admit(impl_->options(), options, key);
  absl::StatusOr<uint64_t> ttl_ms = TtlMillis(ttl, /*zero_ok=*/true);
  if (!deadline.ok() || !ttl_ms.ok()) {
    return impl_->CallBackSoon(
        [done = std::move(done),
         status = deadline.ok() ? ttl_ms.status() : deadline.status()] {
          done(status);
        });
  }
  ExpireRequest request;
  request.set_key(std::string(key));
  request.set_ttl_ms(*ttl_ms);
  request.set_w(Pick(options.w, impl_->options().w));
  impl_->Submit(std::move(request), *deadline,
                [done = std::move(done)](absl::StatusOr<ExpireResponse> r) {
                  if (!r.ok()) return done(r.status());
                  done(ToWriteResult(r->version(), r->acks(), r->existed()));
                });
}

absl::StatusOr<ReadResult> Client::GetFromReplica(const std::string& node_id,
                                                  absl::string_view key,
                                                  const RequestOptions& options) {
  auto deadline = Admit(impl_->options(), options, key);
  if (!deadline.ok()) return deadline.status();
  if (node_id.empty()) return absl::InvalidArgumentError("node id is empty");
  GetRequest request;
  request.set_key(std::string(key));
  request.set_from_node(node_id);
  absl::Notification finished;
  absl::StatusOr<ReadResult> result;
  impl_->Submit(std::move(request), *deadline,
                [&](absl::StatusOr<GetResponse> r) {
                  if (r.ok()) {
                    result = ToReadResult(*std::move(r));
                  } else {
                    result = r.status();
                  }
                  finished.Notify();
                });
  finished.WaitForNotification();
  return result;
}

void Client::GetAsync(absl::string_view key, const RequestOptions& options,
                      ReadCallback done) {
  auto deadline = Admit(impl_->options(), options, key);
  if (!deadline.ok()) {
    return impl_->CallBackSoon(
        [done = std::move(done), status = deadline.status()] { done(status); });
  }
  GetRequest request;
  request.set_key(std::string(key));
  request.set_r(Pick(options.r, impl_->options().r));
  impl_->Submit(std::move(request), *deadline,
                [done = std::move(done)](absl::StatusOr<GetResponse> r) {
                  if (!r.ok()) return done(r.status());
                  done(ToReadResult(*std::move(r)));
                });
}

namespace {

// Runs an *Async call and waits for its result.
template <typename Result, typename Start>
absl::StatusOr<Result> Wait(Start start) {
  absl::Notification finished;
  absl::StatusOr<Result> result;
  start([&](absl::StatusOr<Result> r) {
    result = std::move(r);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

}  // namespace

absl::StatusOr<WriteResult> Client::Put(absl::string_view key,
                                        absl::string_view value,
                                        const RequestOptions& options) {
  return Wait<WriteResult>(
      [&](WriteCallback done) { PutAsync(key, value, options, std::move(done)); });
}

absl::StatusOr<ReadResult> Client::Get(absl::string_view key,
                                       const RequestOptions& options) {
  return Wait<ReadResult>(
      [&](ReadCallback done) { GetAsync(key, options, std::move(done)); });
}

absl::StatusOr<WriteResult> Client::Expire(absl::string_view key,
                                           absl::Duration ttl,
                                           const RequestOptions& options) {
  if (ttl == absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "TTL is 0; it must be at least 1 ms (Persist clears an expiry)");
  }
  return Wait<WriteResult>([&](WriteCallback done) {
    ExpireAsync(key, ttl, options, std::move(done));
  });
}

absl::StatusOr<WriteResult> Client::Persist(absl::string_view key,
                                            const RequestOptions& options) {
  return Wait<WriteResult>([&](WriteCallback done) {
    ExpireAsync(key, absl::ZeroDuration(), options, std::move(done));
  });
}

absl::StatusOr<WriteResult> Client::Delete(absl::string_view key,
                                           const RequestOptions& options) {
  return Wait<WriteResult>(
      [&](WriteCallback done) { DeleteAsync(key, options, std::move(done)); });
}

absl::StatusOr<KeyLocation> Client::Where(absl::string_view key) {
  return impl_->Where(key);
}
absl::StatusOr<ClusterSummary> Client::Nodes() { return impl_->Nodes(); }
absl::StatusOr<MoveList> Client::Moves() { return impl_->Moves(); }
absl::StatusOr<MoveList> Client::Plan() { return impl_->Plan(); }
absl::StatusOr<DecommissionResult> Client::Decommission(
    const std::string& node_id, bool dry_run) {
  return impl_->Decommission(node_id, dry_run);
}
absl::StatusOr<uint32_t> Client::ReplicationFactor() {
  return impl_->ReplicationFactor();
}
MasterList Client::Masters() { return impl_->Masters(); }

// Made here, where the routing loop is; used by the SDK's other files
// (client_scan.cc, client_cas.cc).
template void internal::ClientImpl::Submit<PutRequest>(
    PutRequest, absl::Time, std::function<void(absl::StatusOr<PutResponse>)>);
template void internal::ClientImpl::Submit<ScanRequest>(
    ScanRequest, absl::Time,
    std::function<void(absl::StatusOr<ScanResponse>)>);
template void internal::ClientImpl::Submit<CasRequest>(
    CasRequest, absl::Time, std::function<void(absl::StatusOr<CasResponse>)>);

}  // namespace quorumkv
