// Quorum writes and reads for the partitions this node holds: the node's
// KvService hands each client request it accepts to the Coordinator.
//
// Its rooms: the write path (quorum_writer.h), the read and repair path
// (quorum_reader.h), the scan path (quorum_scanner.h), the conditional
// write path (paxos/proposer.h), what a round concludes from its answers
// (quorum_tally.h), and how a replica is reached, this node included
// (replica_access.h, over the per-peer seam PeerProxy). Nothing here
// blocks on the network; `done` runs on whichever thread completes the
// quorum. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_COORDINATOR_H_
#define QUORUMKV_STORAGE_NODE_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/hlc.h"
#include "proto/replica.pb.h"
#include "storage_node/down_nodes.h"
#include "storage_node/engine.h"
#include "storage_node/hint_writer.h"
#include "storage_node/peer.h"
#include "absl/strings/str_cat.h"
#include "storage_node/paxos/key_queue.h"
#include "storage_node/read_coalescer.h"
#include "storage_node/paxos/proposer.h"
#include "storage_node/quorum_reader.h"
#include "storage_node/quorum_scanner.h"
#include "storage_node/quorum_writer.h"
#include "storage_node/replica_access.h"

namespace quorumkv {

class Coordinator {
 public:
  using WriteDone = QuorumWriter::WriteDone;
  using ReadDone = QuorumReader::ReadDone;

  // All pointers must outlive the coordinator and every call still in
  // flight (the server shuts down before they are destroyed); `down` may be
  // null (no master's view: benchmarks).
  // `directory`, when given, is the node's current directory: conditional
  // writes start each round from it (paxos/proposer.h).
  Coordinator(std::string self_id, Engine* engine, HybridClock* clock,
              PeerSet* peers, const DownNodes* down, HintWriter* hints,
              const DirectoryHolder* directory = nullptr);

  // QuorumWriter::Write.
  void Write(DirectoryPtr directory, uint32_t partition, std::string key,
             VersionedValue value, uint32_t w, absl::Time deadline,
             WriteDone done) {
    writer_.Write(std::move(directory), partition, std::move(key),
                  std::move(value), w, deadline, std::move(done));
  }

  // QuorumReader::Read, concurrent reads of one key sharing rounds
  // (read_coalescer.h).
  void Read(DirectoryPtr directory, uint32_t partition, std::string key,
            uint32_t r, absl::Time deadline, ReadDone done) {
    std::string group = absl::StrCat(partition, "/", r, "/", key);
    coalescer_.Read(
        group, deadline, std::move(done),
        [this, directory = std::move(directory), partition, key = std::move(key),
         r](absl::Time round_deadline, ReadDone round_done) {
          reader_.Read(directory, partition, key, r, round_deadline,
                       std::move(round_done));
        });
  }
  // Reads answered by a round they shared with other reads of the key.
  uint64_t coalesced_reads() const { return coalescer_.shared_reads(); }
  // Read rounds sent to the replicas.
  uint64_t read_rounds() const { return coalescer_.rounds(); }

  // QuorumScanner::Scan.
  void Scan(DirectoryPtr directory, const ScanRequest& request, uint32_t r,
            absl::Time deadline, QuorumScanner::ScanDone done) {
    scanner_.Scan(std::move(directory), request, r, deadline, std::move(done));
  }

  // PaxosProposer::Run, one round of a key at a time (paxos/key_queue.h).
  void Cas(DirectoryPtr directory, uint32_t partition, CasRequest request,
           absl::Time deadline, PaxosProposer::Done done) {
    std::string key = request.key();
    cas_queue_.Run(key, [this, directory = std::move(directory), partition,
                         request = std::move(request), deadline,
                         done = std::move(done)](KeyQueue::Finished finished) mutable {
      proposer_.Run(std::move(directory), partition, std::move(request), deadline,
                    [done = std::move(done), finished = std::move(finished)](
                        absl::StatusOr<CasResponse> result) {
                      finished();
                      done(std::move(result));
                    });
    });
  }

  // The version of `key` this node stores (tombstones included), without
  // asking anyone else; NOT_FOUND when it has none.
  absl::StatusOr<VersionedValue> ReadLocal(uint32_t partition,
                                           absl::string_view key) const {
    return replicas_.engine()->Read(partition, key);
  }

  // Sends `request` to `node_id` (applying it locally when it is this node)
  // and calls `done` with the outcome. Used for hints and repairs.
  void Deliver(const DirectoryView& directory, const std::string& node_id,
               const ApplyRequest& request, absl::Time deadline,
               std::function<void(absl::StatusOr<ApplyResponse>)> done) {
    replicas_.Apply(directory, node_id, request, deadline, std::move(done));
  }

  const std::string& self_id() const { return replicas_.self_id(); }
  // Replicas found behind by a read and sent the newest version, since
  // start.
  uint64_t read_repairs() const { return reader_.read_repairs(); }

  // Blocks until no call to another replica is in flight (each has a
  // deadline). Called at shutdown, once no new request can arrive.
  void WaitIdle();

 private:
  ReplicaAccess replicas_;
  QuorumWriter writer_;
  QuorumReader reader_;
  QuorumScanner scanner_;
  PaxosProposer proposer_;
  KeyQueue cas_queue_;
  ReadCoalescer coalescer_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_COORDINATOR_H_
