#include "master/relay.h"

#include <algorithm>
#include <limits>
#include <type_traits>
#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/deadlines.h"
#include "common/kv_methods.h"
#include "common/limits.h"
#include "common/rpc_status.h"
#include "common/status_macros.h"
#include "common/write_outcome.h"
#include "master/master_service.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kDefaultDeadline = absl::Seconds(10);
constexpr absl::Duration kMaxBackoff = absl::Milliseconds(200);

// Whether another replica may succeed where `status` came back: the replica
// could not be reached, had no directory yet, or routes by another epoch. A
// coordinator's own answer (quorum not reached, not found, ...) is final.
bool TryNextReplica(const absl::Status& status) {
  if (GetWrongNode(status)) return true;
  return absl::IsUnavailable(status) && !GetErrorDetail(status);
}

}  // namespace

template <typename Request>
struct RelayKvService::Relay {
  std::function<void(absl::StatusOr<typename KvMethod<Request>::Response>)>
      done;
  Request request;
  absl::Time deadline;
  uint32_t partition = 0;
  std::vector<const NodeDescriptor*> targets;
  DirectoryPtr directory;  // keeps `targets` alive
  size_t next = 0;
  // Whether a replica of this round answered WrongNode.
  bool wrong_node = false;
  absl::Duration backoff = absl::Milliseconds(5);
  std::vector<std::string> errors;
  CancellationPtr cancellation;  // may be null
  // Writes: whether an attempt may have been applied.
  WriteAttempts attempts;
};

RelayKvService::RelayKvService(const DirectoryManager* directory,
                               const Membership* membership,
                               RequestMetrics* metrics,
                               const DaemonSecurity& security)
    : directory_(directory),
      membership_(membership),
      metrics_(metrics),
      auth_(security.tokens.get()),
      nodes_(security.outgoing()) {}

absl::Status RelayKvService::Admit(
    absl::string_view key, const char* quorum_name, uint32_t quorum,
    DirectoryPtr* directory,
    std::vector<const NodeDescriptor*>* targets) const {
  RETURN_IF_ERROR(ValidateKey(key));
  *directory = directory_->Get();
  RETURN_IF_ERROR(CheckDirectoryFormed(**directory, *membership_,
                                       directory_->initial_nodes()));
  RETURN_IF_ERROR(
      ResolveQuorum(quorum_name, quorum, (*directory)->replication()).status());
  const absl::Time now = absl::Now();
  std::vector<const NodeDescriptor*> up, down;
  for (const std::string& id :
       (*directory)->Replicas((*directory)->PartitionOf(key))) {
    const NodeDescriptor* node = (*directory)->FindNode(id);
    if (node == nullptr) continue;
    (membership_->StateOf(id, now) == UP ? up : down).push_back(node);
  }
  *targets = std::move(up);
  targets->insert(targets->end(), down.begin(), down.end());
  return absl::OkStatus();
}

template <typename Request>
void RelayKvService::Attempt(std::shared_ptr<Relay<Request>> relay) {
  if (relay->cancellation != nullptr && relay->cancellation->cancelled()) {
    Finish(*relay, absl::CancelledError("the client cancelled the request"));
    return;
  }
  if (relay->next >= relay->targets.size() && relay->wrong_node &&
      absl::Now() + relay->backoff < relay->deadline) {
    // Replicas answered from an older directory than ours; they are
    // fetching the new one. Go round again shortly.
    relay->next = 0;
    relay->wrong_node = false;
    relay->errors.clear();
    const absl::Time when = absl::Now() + relay->backoff;
    relay->backoff = std::min(relay->backoff * 2, kMaxBackoff);
    timers_.RunAt(when, [this, relay] { Attempt(relay); });
    return;
  }
  if (relay->next >= relay->targets.size() || absl::Now() >= relay->deadline) {
    const bool late = absl::Now() >= relay->deadline;
    absl::Status status(
        late ? absl::StatusCode::kDeadlineExceeded
             : absl::StatusCode::kUnavailable,
        absl::StrCat("master could not reach a replica of partition ",
                     relay->partition, ": ",
                     absl::StrJoin(relay->errors, "; ")));
    Finish(*relay, std::move(status));
    return;
  }
  const NodeDescriptor* target = relay->targets[relay->next++];
  relay->request.set_directory_epoch(relay->directory->epoch());
  // The coordinator answers (its quorum failure, say) before the client
  // gives up on the master.
  const absl::Time deadline = InnerDeadline(relay->deadline);
  KvStream* stream = nodes_.Get(target->address());
  // Registered before the call, so that a cancel in between is not missed;
  // the call's id is known once it is queued.
  auto call_id = std::make_shared<std::atomic<uint64_t>>(0);
  uint64_t registration = 0;
  if (relay->cancellation != nullptr) {
    registration = relay->cancellation->Register([stream, call_id] {
      if (const uint64_t id = call_id->load()) stream->Cancel(id);
    });
  }
  *call_id = stream->Send(
      Batched(relay->request, deadline), deadline,
      [this, relay, target, registration](absl::StatusOr<KvReply> reply) {
        if (relay->cancellation != nullptr) {
          relay->cancellation->Unregister(registration);
        }
        if (reply.ok()) {
          Finish(*relay, std::move(*KvMethod<Request>::Unwrap(*reply)));
          return;
        }
        const absl::Status& status = reply.status();
        if (TryNextReplica(status)) {
          relay->attempts.Failed(status);
          if (GetWrongNode(status)) relay->wrong_node = true;
          relay->errors.push_back(absl::StrCat(target->id(), " (",
                                               target->address(),
                                               "): ", status.message()));
          Attempt(relay);
        } else {
          Finish(*relay, status);
        }
      });
}

template <typename Request>
void RelayKvService::Finish(
    Relay<Request>& relay,
    absl::StatusOr<typename KvMethod<Request>::Response> result) {
  if constexpr (KvMethod<Request>::kWrites) {
    if (!result.ok()) {
      result = relay.attempts.Outcome(result.status(), relay.request.w());
    }
  }
  auto done = std::move(relay.done);
  done(std::move(result));
  absl::MutexLock lock(&mu_);
  --in_flight_;
}

void RelayKvService::WaitIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

template <typename Request>
void RelayKvService::Start(
    const Request& request, absl::Time deadline,
    std::function<void(absl::StatusOr<typename KvMethod<Request>::Response>)>
        done,
    const CancellationPtr& cancellation) {
  using Method = KvMethod<Request>;
  auto counted =
      metrics_->Counting<Request>(/*relayed=*/true, std::move(done));
  auto relay = std::make_shared<Relay<Request>>();
  relay->request = request;
  relay->request.set_relayed(true);
  relay->deadline = deadline;
  relay->cancellation = cancellation;
  absl::Status admitted = Admit(request.key(), Method::kQuorumName,
                                Method::Quorum(request), &relay->directory,
                                &relay->targets);
  if (admitted.ok()) {
    if constexpr (std::is_same_v<Request, PutRequest>) {
      admitted = ValidateValue(request.value());
    }
  }
  if constexpr (std::is_same_v<Request, GetRequest>) {
    if (admitted.ok() && !request.from_node().empty()) {
      // One replica's own copy: that node, or nothing.
      const NodeDescriptor* node =
          relay->directory->FindNode(request.from_node());
      relay->targets.assign(1, node);
      if (node == nullptr) {
        admitted = absl::InvalidArgumentError(
            absl::StrCat("unknown node ", request.from_node()));
      }
    }
  }
  if (!admitted.ok()) {
    counted(absl::StatusOr<typename Method::Response>(std::move(admitted)));
    return;
  }
  relay->done = std::move(counted);
  relay->partition = relay->directory->PartitionOf(request.key());
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  Attempt(std::move(relay));
}

grpc::ServerUnaryReactor* RelayKvService::Put(
    grpc::CallbackServerContext* context, const PutRequest* request,
    PutResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  return ServeUnary(context, *request, response, kDefaultDeadline, Starts());
}

grpc::ServerUnaryReactor* RelayKvService::Get(
    grpc::CallbackServerContext* context, const GetRequest* request,
    GetResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  return ServeUnary(context, *request, response, kDefaultDeadline, Starts());
}

grpc::ServerUnaryReactor* RelayKvService::Delete(
    grpc::CallbackServerContext* context, const DeleteRequest* request,
    DeleteResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  return ServeUnary(context, *request, response, kDefaultDeadline, Starts());
}

grpc::ServerBidiReactor<KvRequestBatch, KvReplyBatch>* RelayKvService::Batch(
    grpc::CallbackServerContext* context) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return RefuseStream<KvRequestBatch, KvReplyBatch>(s);
  }
  return ServeKvBatch(&open_streams_, kDefaultDeadline, Starts());
}

}  // namespace quorumkv
