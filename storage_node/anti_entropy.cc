#include "storage_node/anti_entropy.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/hlc.h"
#include "common/logging.h"
#include "common/rpc_status.h"
#include "common/status_macros.h"
#include "storage_node/ownership.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(10);
// Leaves whose rows are asked for in one request: bounds a reply.
constexpr size_t kLeavesPerRequest = 16;
// How often an idle runner looks for a task (heartbeats bring them).
constexpr absl::Duration kIdlePoll = absl::Milliseconds(200);

// Runs one asynchronous peer call and waits for it; for the runner thread.
template <typename Request, typename Response>
absl::StatusOr<Response> CallAndWait(
    Peer* peer,
    void (Peer::*method)(const Request&, absl::Time,
                         std::function<void(absl::StatusOr<Response>)>),
    const Request& request) {
  absl::Notification answered;
  absl::StatusOr<Response> result;
  (peer->*method)(request, absl::Now() + kCallTimeout,
                  [&](absl::StatusOr<Response> r) {
                    result = std::move(r);
                    answered.Notify();
                  });
  answered.WaitForNotification();  // the call has a deadline
  return result;
}

}  // namespace

AntiEntropy::AntiEntropy(std::string self_id, Engine* engine,
                         const DirectoryHolder* directory, PeerSet* peers,
                         std::function<void()> on_pass_done)
    : self_id_(std::move(self_id)),
      engine_(engine),
      directory_(directory),
      peers_(peers),
      on_pass_done_(std::move(on_pass_done)),
      runner_([this] { return RunOnce(); }) {}

AntiEntropy::~AntiEntropy() { Stop(); }

void AntiEntropy::Start() { runner_.Start(); }
void AntiEntropy::Stop() {
  runner_.Stop();
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return serving_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

void AntiEntropy::SetTask(const AntiEntropyTask& task) {
  {
    absl::MutexLock lock(&mu_);
    next_task_ = task;
  }
  runner_.Wake();  // rather than at its next idle poll
}

AntiEntropyReport AntiEntropy::LastReport() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

absl::StatusOr<MerkleTree> AntiEntropy::LocalTree(uint32_t partition) const {
  MerkleTree tree;
  // A value expired past the grace period counts as gone: replicas that
  // purged it and replicas that have not yet agree, and a pass does not
  // copy it back to the first. A replica that missed the expiry still
  // hashes its live copy, so the leaf differs and the expiry reaches it.
  const int64_t expired_before =
      absl::ToUnixMillis(absl::Now() - engine_->tombstone_grace());
  RETURN_IF_ERROR(engine_->ForEachRowHeader(
      partition, [&](absl::string_view key, const RecordHeader& row) {
        if (!row.tombstone && row.expires_at_ms != 0 &&
            row.expires_at_ms < expired_before) {
          return;
        }
        tree.Add(key, row);
      }));
  tree.Seal();
  return tree;
}

void AntiEntropy::Serve(const PeerRequest& request,
                        std::function<void(PeerReply)> reply) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      ++serving_;
    } else {
      PeerReply refused;
      refused.set_id(request.id());
      ToRequestError(absl::UnavailableError("node is stopping"),
                     refused.mutable_error());
      reply(std::move(refused));
      return;
    }
  }
  server_.RunAt(absl::InfinitePast(), [this, request, reply = std::move(
                                                          reply)] {
    PeerReply answer;
    answer.set_id(request.id());
    const DirectoryPtr directory = directory_->Get();
    const uint32_t partition = request.has_tree() ? request.tree().partition()
                                                  : request.rows().partition();
    absl::Status status = CheckHolds(*directory, self_id_, partition);
    if (status.ok() && request.has_tree()) {
      absl::StatusOr<MerkleTree> tree = LocalTree(partition);
      if (tree.ok()) {
        answer.mutable_tree()->mutable_nodes()->Add(tree->nodes().begin(),
                                                    tree->nodes().end());
      }
      status = tree.status();
    } else if (status.ok()) {
      absl::flat_hash_set<uint32_t> leaves(request.rows().leaves().begin(),
                                           request.rows().leaves().end());
      absl::StatusOr<std::vector<StreamedRow>> rows =
          engine_->RowsInLeaves(partition, leaves);
      if (rows.ok()) {
        for (StreamedRow& row : *rows) {
          *answer.mutable_rows()->add_rows() = std::move(row);
        }
      }
      status = rows.status();
    }
    if (!status.ok()) ToRequestError(status, answer.mutable_error());
    reply(std::move(answer));
    absl::MutexLock lock(&mu_);
    --serving_;
  });
}

absl::Duration AntiEntropy::RunOnce() {
  if (!pass_) {
    absl::MutexLock lock(&mu_);
    if (!next_task_) return kIdlePoll;
    Pass pass;
    pass.task = *next_task_;
    next_task_.reset();
    pass.started = absl::Now();
    pass_ = std::move(pass);
  }
  Pass& pass = *pass_;
  if (pass.order.empty() && pass.next == 0) {
    const DirectoryPtr directory = directory_->Get();
    const uint32_t p = pass.task.partition();
    std::vector<std::string> peers;
    if (directory->formed() && p < directory->partitions() &&
        directory->Holds(self_id_, p)) {
      for (const std::string& id : directory->Replicas(p)) {
        if (id != self_id_) peers.push_back(id);
      }
    } else {
      pass.complete = false;  // not ours (any more): report it undone
    }
    // Round one, then round two but the last: each peer ends with the rows
    // of every other.
    pass.order = peers;
    if (!peers.empty()) {
      pass.order.insert(pass.order.end(), peers.begin(), peers.end() - 1);
    }
  }
  absl::Duration pause = absl::ZeroDuration();
  if (pass.next < pass.order.size()) {
    const std::string peer_id = pass.order[pass.next++];
    absl::StatusOr<uint64_t> bytes = CompareWith(pass, peer_id);
    if (!bytes.ok()) {
      pass.complete = false;
      // Expected while a replica is down: the pass is retried later.
      QKV_LOG(INFO) << "anti-entropy of partition " << pass.task.partition()
                    << " with " << peer_id << " failed: " << bytes.status();
    } else if (pass.task.rate() > 0) {
      pause = absl::Seconds(static_cast<double>(*bytes) / pass.task.rate());
    }
    if (pass.next < pass.order.size()) return pause;
  }
  AntiEntropyReport report;
  report.set_partition(pass.task.partition());
  report.set_started_ms(absl::ToUnixMillis(pass.started));
  report.set_complete(pass.complete);
  report.set_rows_exchanged(pass.rows_exchanged);
  report.set_bytes_exchanged(pass.bytes_exchanged);
  report.set_sequence(++passes_);
  rows_exchanged_.fetch_add(pass.rows_exchanged, std::memory_order_relaxed);
  report.set_leaves_differing(pass.leaves_differing);
  if (pass.rows_exchanged > 0) {
    QKV_LOG(INFO) << "anti-entropy of partition " << pass.task.partition()
                  << ": " << pass.leaves_differing << " leaves differed, "
                  << pass.rows_exchanged << " rows exchanged"
                  << (pass.complete ? "" : " (incomplete)");
  }
  pass_.reset();
  {
    absl::MutexLock lock(&mu_);
    last_ = std::move(report);
  }
  // Reported at once: the master hands out the next partition in its
  // answer, so passes follow each other without waiting for a heartbeat.
  if (on_pass_done_) on_pass_done_();
  return pause;
}

absl::StatusOr<uint64_t> AntiEntropy::CompareWith(Pass& pass,
                                                  const std::string& peer_id) {
  const DirectoryPtr directory = directory_->Get();
  const uint32_t partition = pass.task.partition();
  const NodeDescriptor* node = directory->FindNode(peer_id);
  if (node == nullptr) {
    return absl::FailedPreconditionError("peer not in the directory");
  }
  Peer* peer = peers_->Get(node->address());
  // Its requests would wait for it until their deadlines.
  if (!peer->healthy()) return absl::UnavailableError("peer unreachable");
  ASSIGN_OR_RETURN(MerkleTree mine, LocalTree(partition));
  TreeRequest tree_request;
  tree_request.set_partition(partition);
  tree_request.set_directory_epoch(directory->epoch());
  ASSIGN_OR_RETURN(TreeResponse theirs_proto,
                   CallAndWait(peer, &Peer::Tree, tree_request));
  ASSIGN_OR_RETURN(MerkleTree theirs, MerkleTree::FromNodes(theirs_proto.nodes()));
  uint64_t bytes = MerkleTree::kNodes * sizeof(uint64_t);
  const std::vector<uint32_t> leaves = mine.DifferingLeaves(theirs);
  pass.leaves_differing += leaves.size();
  for (size_t first = 0; first < leaves.size(); first += kLeavesPerRequest) {
    const size_t last = std::min(leaves.size(), first + kLeavesPerRequest);
    RowsRequest rows_request;
    rows_request.set_partition(partition);
    rows_request.set_directory_epoch(directory->epoch());
    absl::flat_hash_set<uint32_t> chunk;
    for (size_t i = first; i < last; ++i) {
      rows_request.add_leaves(leaves[i]);
      chunk.insert(leaves[i]);
    }
    ASSIGN_OR_RETURN(RowsResponse their_rows,
                     CallAndWait(peer, &Peer::Rows, rows_request));
    // What the peer holds, by key; then this node takes what is newer there.
    absl::flat_hash_map<std::string, const Version*> held;
    std::vector<RowWrite> writes;
    for (const StreamedRow& row : their_rows.rows()) {
      held[row.key()] = &row.value().version();
      writes.push_back({partition, row.key(), &row.value()});
      bytes += row.ByteSizeLong();
    }
    std::vector<bool> stored;
    RETURN_IF_ERROR(engine_->ApplyMany(writes, &stored));
    for (size_t i = 0; i < stored.size(); ++i) {
      if (!stored[i]) continue;
      ++pass.rows_exchanged;
      pass.bytes_exchanged += their_rows.rows(i).ByteSizeLong();
    }
    // And the peer gets this node's rows it lacks or holds older.
    ASSIGN_OR_RETURN(std::vector<StreamedRow> my_rows,
                     engine_->RowsInLeaves(partition, chunk));
    std::vector<ApplyRequest> sends;
    uint64_t send_bytes = 0;
    for (StreamedRow& row : my_rows) {
      auto it = held.find(row.key());
      if (it != held.end() && !VersionLess(*it->second, row.value().version())) {
        continue;
      }
      ApplyRequest& apply = sends.emplace_back();
      apply.set_partition(partition);
      apply.set_key(std::move(*row.mutable_key()));
      *apply.mutable_value() = std::move(*row.mutable_value());
      apply.set_directory_epoch(directory->epoch());
      send_bytes += apply.ByteSizeLong();
    }
    bytes += send_bytes;
    std::vector<absl::Status> outcomes(sends.size());
    absl::BlockingCounter answered(static_cast<int>(sends.size()));
    for (size_t i = 0; i < sends.size(); ++i) {
      peer->Apply(sends[i], absl::Now() + kCallTimeout,
                  [&outcomes, &answered, i](absl::StatusOr<ApplyResponse> r) {
                    outcomes[i] = r.status();
                    answered.DecrementCount();
                  });
    }
    answered.Wait();
    for (const absl::Status& status : outcomes) {
      if (!status.ok()) return status;
    }
    pass.rows_exchanged += sends.size();
    pass.bytes_exchanged += send_bytes;
  }
  return bytes;
}

}  // namespace quorumkv
