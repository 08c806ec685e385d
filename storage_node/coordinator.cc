#include "storage_node/coordinator.h"

#include <utility>

namespace quorumkv {

Coordinator::Coordinator(std::string self_id, Engine* engine,
                         HybridClock* clock, PeerSet* peers,
                         const DownNodes* down, HintWriter* hints,
                         const DirectoryHolder* directory)
    : replicas_(std::move(self_id), engine, clock, peers, down),
      writer_(&replicas_, clock, hints),
      reader_(&replicas_, clock),
      scanner_(&replicas_),
      proposer_(&replicas_, clock, hints, directory) {}

void Coordinator::WaitIdle() {
  // Speculative retries still queued launch nothing; then the calls in
  // flight end.
  reader_.StopSpeculating();
  proposer_.Stop();
  replicas_.WaitIdle();
}

}  // namespace quorumkv
