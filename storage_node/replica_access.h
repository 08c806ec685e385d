// How the coordinator reaches one replica of a partition, this node
// included: applies a write or a repair, reads a key, and says whether a
// replica can be expected to answer now. This node's writes of one client
// message (under a BatchCork) are stored together, in one engine write.
//
// Nothing blocks on the network: peers are called through gRPC's callback
// API (PeerSet, the per-peer seam tests drive), and `done` runs on the
// thread that completes the call; this node's engine is called inline.
// Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_REPLICA_ACCESS_H_
#define QUORUMKV_STORAGE_NODE_REPLICA_ACCESS_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "proto/replica.pb.h"
#include "storage_node/down_nodes.h"
#include "storage_node/engine.h"
#include "storage_node/paxos/acceptor.h"
#include "storage_node/peer.h"

namespace quorumkv {

// Label of a replica in error messages: "id (host:port)".
std::string DescribeReplica(const DirectoryView& directory,
                            const std::string& id);

// A scan's page of this node's rows (RangeRequest), as every replica reads
// it.
absl::StatusOr<RangeResponse> ReadRangeHere(const Engine& engine,
                                            const RangeRequest& request);

class ReplicaAccess {
 public:
  template <typename Response>
  using Done = std::function<void(absl::StatusOr<Response>)>;

  // Pointers must outlive the access and every call in flight; `down` may
  // be null (no master's view: benchmarks).
  ReplicaAccess(std::string self_id, Engine* engine, HybridClock* clock,
                PeerSet* peers, const DownNodes* down);

  const std::string& self_id() const { return self_id_; }
  Engine* engine() const { return engine_; }
  // Whether the master holds `node_id` DOWN.
  bool IsDown(const std::string& node_id) const;
  // Whether `node_id` can be expected to answer now: this node, or a peer
  // neither DOWN by the master nor just failed on its channel.
  bool Alive(const DirectoryView& directory, const std::string& node_id);

  // Sends `request` to `node_id` (applies it here when it is this node).
  void Apply(const DirectoryView& directory, const std::string& node_id,
             const ApplyRequest& request, absl::Time deadline,
             Done<ApplyResponse> done);
  // Stores `row` in this node's engine. Under a BatchCork (the requests of
  // one client message) the rows wait and are stored together when the
  // cork ends, in one engine call; `row` must stay valid until `done`.
  void ApplyHereBatched(RowWrite row, Done<ApplyResponse> done);
  // Reads `request`'s key from `node_id` (here when it is this node).
  void Read(const DirectoryView& directory, const std::string& node_id,
            const ReadRequest& request, absl::Time deadline,
            Done<ReadResponse> done);

  // A scan's page of `request`'s partition from `node_id`.
  void Range(const DirectoryView& directory, const std::string& node_id,
             const RangeRequest& request, absl::Time deadline,
             Done<RangeResponse> done);
  // A step of a Paxos round at `node_id` (this node's acceptor when it is
  // this node).
  void Paxos(const DirectoryView& directory, const std::string& node_id,
             const PaxosRequest& request, absl::Time deadline,
             Done<PaxosResponse> done);

  // Blocks until no call to a peer is in flight (each has a deadline).
  void WaitIdle();

 private:
  // The peer object of `node_id`; nullptr when the directory does not
  // know the node.
  Peer* PeerOf(const DirectoryView& directory, const std::string& node_id);
  // PeerOf(), or null after failing `done` when the node is unknown.
  template <typename Response>
  Peer* PeerOrFail(const DirectoryView& directory, const std::string& node_id,
                   Done<Response>& done) {
    Peer* peer = PeerOf(directory, node_id);
    if (peer == nullptr) {
      done(absl::UnavailableError("node is not in the directory"));
    }
    return peer;
  }
  // Stores the rows ApplyHereBatched put off on this thread.
  void FlushBatched();

  const std::string self_id_;
  Engine* const engine_;
  PaxosAcceptor acceptor_;
  PeerSet* const peers_;
  const DownNodes* const down_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_REPLICA_ACCESS_H_
