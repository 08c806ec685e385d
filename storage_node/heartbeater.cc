#include "storage_node/heartbeater.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/directory_codec.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "common/rpc_status.h"
#include "common/status_macros.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kRpcTimeout = absl::Seconds(2);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
constexpr absl::Duration kWaitingInterval = absl::Milliseconds(50);

}  // namespace

Heartbeater::Heartbeater(NodeDescriptor self, uint64_t capacity_bytes,
                         MasterSet* masters, absl::Duration interval,
                         DirectoryHolder* directory,
                         ClusterIdentity* cluster, DownNodes* down,
                         LoadFn load, FatalFn on_fatal, Hooks hooks)
    : self_(std::move(self)),
      capacity_bytes_(capacity_bytes),
      masters_(masters),
      interval_(interval),
      directory_(directory),
      cluster_(cluster),
      down_(down),
      load_(std::move(load)),
      on_fatal_(std::move(on_fatal)),
      hooks_(std::move(hooks)),
      backoff_(kFirstBackoff),
      task_([this] { return RunOnce(); }) {}

Heartbeater::~Heartbeater() { Stop(); }

void Heartbeater::Start() { task_.Start(); }
void Heartbeater::Stop() { task_.Stop(); }

void Heartbeater::RequestRefresh() {
  {
    absl::MutexLock lock(&mu_);
    refresh_requested_ = true;
  }
  task_.Wake();
}

void Heartbeater::Wake() { task_.Wake(); }

bool Heartbeater::registered() const {
  absl::MutexLock lock(&mu_);
  return registered_;
}

absl::Duration Heartbeater::RunOnce() {
  if (fatal_) return absl::InfiniteDuration();
  bool registered, refresh;
  {
    absl::MutexLock lock(&mu_);
    registered = registered_;
    refresh = refresh_requested_;
    refresh_requested_ = false;
  }
  if (!registered) {
    absl::Status status = Register();
    // Refusals that retrying cannot change: another live node holds this
    // id, this node came back in another rack, or its data dir belongs to
    // another cluster.
    if (absl::IsAlreadyExists(status) || absl::IsFailedPrecondition(status)) {
      return Fail(absl::Status(
          status.code(),
          absl::StrCat("master ", masters_->address(masters_->preferred()),
                       " refused registration: ", status.message())));
    }
    if (!status.ok()) {
      QKV_LOG(WARNING) << "cannot register with master " << masters_->list()
                       << ": " << status.message() << "; retrying in "
                       << absl::FormatDuration(backoff_);
      const absl::Duration wait = backoff_;
      backoff_ = std::min(backoff_ * 2, kMaxBackoff);
      return wait;
    }
    backoff_ = kFirstBackoff;
    master_reachable_ = true;
    QKV_LOG(INFO) << "registered with master "
                  << masters_->address(masters_->preferred()) << " as "
                  << self_.id() << " (rack " << self_.rack() << ", address "
                  << self_.address() << ")";
    absl::MutexLock lock(&mu_);
    registered_ = true;
    return interval_;
  }

  HeartbeatRequest request;
  HeartbeatResponse response;
  absl::Status status = Heartbeat(&request, &response);
  if (!status.ok() && hooks_.unanswered) hooks_.unanswered(request);
  const uint64_t master_epoch = response.directory_epoch();
  if (absl::IsNotFound(status)) {
    // The master restarted or forgot us: register again right away.
    absl::MutexLock lock(&mu_);
    registered_ = false;
    return absl::ZeroDuration();
  }
  if (!status.ok()) {
    if (master_reachable_) {
      QKV_LOG(WARNING) << "heartbeat failed: " << status.message()
                       << "; serving from directory epoch "
                       << directory_->epoch();
    }
    master_reachable_ = false;
    // Stale by now: a node DOWN then may be back.
    down_->Set(std::vector<std::string>());
    return interval_;
  }
  if (!cluster_->fence()->Admit(response.term(), "heartbeat answer")) {
    // A leader superseded since: its tasks and DOWN list are not acted on,
    // and the next heartbeat goes to the next master.
    masters_->Prefer((masters_->preferred() + 1) % masters_->size());
    return interval_;
  }
  down_->Set(response.down_nodes());
  if (!master_reachable_) {
    QKV_LOG(INFO) << "master " << masters_->address(masters_->preferred())
                  << " reachable again";
  }
  master_reachable_ = true;
  if (refresh || master_epoch > directory_->epoch()) {
    if (absl::Status s = FetchDirectory(); absl::IsFailedPrecondition(s)) {
      return Fail(std::move(s));  // another cluster's master
    } else if (!s.ok()) {
      QKV_LOG(WARNING) << "cannot fetch directory: " << s.message();
    }
  }
  if (hooks_.answered) hooks_.answered(response);
  // A move to this node waits for the other replicas to route by its
  // epoch: they report it right after the change, so ask again soon.
  return response.streams_waiting() ? std::min(interval_, kWaitingInterval)
                                    : interval_;
}

absl::Status Heartbeater::Register() {
  RegisterRequest request;
  *request.mutable_node() = self_;
  request.set_capacity_bytes(capacity_bytes_);
  *request.mutable_load() = load_();
  request.set_cluster_id(cluster_->id());
  RegisterResponse response;
  RETURN_IF_ERROR(masters_->Call(&MasterService::Stub::Register, request,
                                 &response, kRpcTimeout,
                                 /*leader_only=*/true));
  return InstallDirectory(response.directory());
}

absl::Status Heartbeater::InstallDirectory(const Directory& directory) {
  ASSIGN_OR_RETURN(const bool installed, cluster_->Install(directory, directory_));
  if (installed) QKV_LOG(INFO) << "directory epoch " << directory.epoch();
  return absl::OkStatus();
}

absl::Duration Heartbeater::Fail(absl::Status status) {
  fatal_ = true;
  QKV_LOG(ERROR) << status.message();
  on_fatal_(std::move(status));
  return absl::InfiniteDuration();
}

absl::Status Heartbeater::Heartbeat(HeartbeatRequest* request,
                                    HeartbeatResponse* response) {
  request->set_node_id(self_.id());
  *request->mutable_load() = load_();
  request->set_directory_epoch(directory_->epoch());
  if (hooks_.fill) hooks_.fill(request);
  return masters_->Call(&MasterService::Stub::Heartbeat, *request, response,
                        kRpcTimeout, /*leader_only=*/true);
}

absl::Status Heartbeater::FetchDirectory() {
  const DirectoryPtr held = directory_->Get();
  GetDirectoryRequest request;
  request.set_known_epoch(held->epoch());
  request.set_compact(true);
  GetDirectoryResponse response;
  RETURN_IF_ERROR(masters_->Call(&MasterService::Stub::GetDirectory, request,
                                 &response, kRpcTimeout));
  absl::StatusOr<Directory> directory = DirectoryIn(held->proto(), response);
  if (!directory.ok() && held->epoch() > 0) {
    // A delta that does not fit what was held: take it whole.
    request.set_known_epoch(0);
    response.Clear();
    RETURN_IF_ERROR(masters_->Call(&MasterService::Stub::GetDirectory,
                                   request, &response, kRpcTimeout));
    directory = DirectoryIn(Directory(), response);
  }
  RETURN_IF_ERROR(directory.status());
  return InstallDirectory(*directory);
}

}  // namespace quorumkv
