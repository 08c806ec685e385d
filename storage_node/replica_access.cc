#include "storage_node/replica_access.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/batch_cork.h"
#include "common/status_macros.h"

namespace quorumkv {

std::string DescribeReplica(const DirectoryView& directory,
                            const std::string& id) {
  const NodeDescriptor* node = directory.FindNode(id);
  return node == nullptr ? id : absl::StrCat(id, " (", node->address(), ")");
}

namespace {

// Local writes a thread has put off under a BatchCork, per access (tests
// run several nodes in one process). Only that thread touches them.
struct DeferredWrite {
  RowWrite row;
  ReplicaAccess::Done<ApplyResponse> done;
};
thread_local absl::flat_hash_map<const ReplicaAccess*,
                                 std::vector<DeferredWrite>>
    deferred_local_writes;

}  // namespace

ReplicaAccess::ReplicaAccess(std::string self_id, Engine* engine,
                             HybridClock* clock,
                             PeerSet* peers, const DownNodes* down)
    : self_id_(std::move(self_id)),
      engine_(engine),
      acceptor_(engine, clock),
      peers_(peers),
      down_(down) {}

bool ReplicaAccess::IsDown(const std::string& node_id) const {
  return down_ != nullptr && down_->IsDown(node_id);
}

Peer* ReplicaAccess::PeerOf(const DirectoryView& directory,
                            const std::string& node_id) {
  const NodeDescriptor* node = directory.FindNode(node_id);
  return node == nullptr ? nullptr : peers_->Get(node->address());
}

bool ReplicaAccess::Alive(const DirectoryView& directory,
                          const std::string& node_id) {
  if (node_id == self_id_) return true;
  if (IsDown(node_id)) return false;
  Peer* peer = PeerOf(directory, node_id);
  return peer != nullptr && peer->healthy();
}

void ReplicaAccess::Apply(const DirectoryView& directory,
                          const std::string& node_id,
                          const ApplyRequest& request, absl::Time deadline,
                          Done<ApplyResponse> done) {
  if (node_id == self_id_) {
    auto applied =
        engine_->Apply(request.partition(), request.key(), request.value());
    if (!applied.ok()) return done(applied.status());
    ApplyResponse response;
    response.set_applied(*applied);
    done(std::move(response));
    return;
  }
  if (Peer* peer = PeerOrFail(directory, node_id, done)) {
    peer->Apply(request, deadline, std::move(done));
  }
}

void ReplicaAccess::ApplyHereBatched(RowWrite row, Done<ApplyResponse> done) {
  std::vector<DeferredWrite>& pending = deferred_local_writes[this];
  pending.push_back({row, std::move(done)});
  if (pending.size() > 1) return;  // a flush is already deferred
  auto flush = [](void* self) {
    static_cast<ReplicaAccess*>(self)->FlushBatched();
  };
  if (!BatchCork::Defer(this, flush)) FlushBatched();
}

void ReplicaAccess::FlushBatched() {
  std::vector<DeferredWrite> writes =
      std::move(deferred_local_writes.extract(this).mapped());
  std::vector<RowWrite> rows;
  rows.reserve(writes.size());
  for (const DeferredWrite& w : writes) rows.push_back(w.row);
  // The rows of one incoming message: one RocksDB write (and, with
  // --sync_writes, one sync) for all of them.
  std::vector<bool> stored, had_value;
  const absl::Status status = engine_->ApplyMany(rows, &stored, &had_value);
  for (size_t i = 0; i < writes.size(); ++i) {
    if (!status.ok()) {
      writes[i].done(status);
      continue;
    }
    ApplyResponse response;
    response.set_applied(stored[i]);
    response.set_had_value(had_value[i]);
    writes[i].done(std::move(response));
  }
}

void ReplicaAccess::Read(const DirectoryView& directory,
                         const std::string& node_id,
                         const ReadRequest& request, absl::Time deadline,
                         Done<ReadResponse> done) {
  if (node_id == self_id_) {
    ReadResponse response;
    auto value = engine_->Read(request.partition(), request.key());
    if (value.ok()) {
      response.set_found(true);
      *response.mutable_value() = *std::move(value);
    } else if (!absl::IsNotFound(value.status())) {
      done(value.status());
      return;
    }
    done(std::move(response));
    return;
  }
  if (Peer* peer = PeerOrFail(directory, node_id, done)) {
    peer->Read(request, deadline, std::move(done));
  }
}

void ReplicaAccess::Range(const DirectoryView& directory,
                          const std::string& node_id,
                          const RangeRequest& request, absl::Time deadline,
                          Done<RangeResponse> done) {
  if (node_id == self_id_) {
    done(ReadRangeHere(*engine_, request));
    return;
  }
  if (Peer* peer = PeerOrFail(directory, node_id, done)) {
    peer->Range(request, deadline, std::move(done));
  }
}

void ReplicaAccess::Paxos(const DirectoryView& directory,
                          const std::string& node_id,
                          const PaxosRequest& request, absl::Time deadline,
                          Done<PaxosResponse> done) {
  if (node_id == self_id_) {
    done(acceptor_.Answer(request));
    return;
  }
  if (Peer* peer = PeerOrFail(directory, node_id, done)) {
    peer->Paxos(request, deadline, std::move(done));
  }
}

absl::StatusOr<RangeResponse> ReadRangeHere(const Engine& engine,
                                            const RangeRequest& request) {
  // A page's bytes: large enough to amortize a round trip, small enough
  // that R of them fit any coordinator.
  constexpr size_t kMaxPageBytes = 4 << 20;
  ASSIGN_OR_RETURN(Engine::Range range,
                   engine.ReadRange(request.partition(), request.start_after(),
                                    request.prefix(), request.limit(),
                                    kMaxPageBytes, request.keys_only()));
  RangeResponse response;
  for (StreamedRow& row : range.rows) *response.add_rows() = std::move(row);
  response.set_truncated(range.truncated);
  return response;
}

void ReplicaAccess::WaitIdle() { peers_->WaitIdle(); }

}  // namespace quorumkv
