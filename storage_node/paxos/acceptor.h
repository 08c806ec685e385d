// A replica's side of a key's Paxos round: each step (prepare, propose,
// commit) applied to the key's durable state under the key's lock
// (Engine::UpdatePaxos) by the rules of acceptor_rules.h. Serves the steps
// peers send (storage_node/replica_service.h) and those this node sends
// itself as a proposer. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_PAXOS_ACCEPTOR_H_
#define QUORUMKV_STORAGE_NODE_PAXOS_ACCEPTOR_H_

#include "absl/status/statusor.h"
#include "common/hlc.h"
#include "proto/replica.pb.h"
#include "storage_node/engine.h"

namespace quorumkv {

class PaxosAcceptor {
 public:
  // Pointers must outlive the acceptor.
  PaxosAcceptor(Engine* engine, HybridClock* clock);

  // Applies one step; the caller has checked that this node holds (or is
  // joining) the partition. The promise and the accepted proposal are
  // stored before the answer is given.
  absl::StatusOr<PaxosResponse> Answer(const PaxosRequest& request);

 private:
  Engine* const engine_;
  HybridClock* const clock_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PAXOS_ACCEPTOR_H_
