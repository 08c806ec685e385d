// The coordinator's scan path: one page of a partition this node holds,
// read from R replicas (this node first, then live ones; a replica that
// fails is replaced by the next) and merged by scan_merge.h. Scans do not
// repair: anti-entropy brings replicas together. `done` runs once, on the
// thread of the last answer. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_QUORUM_SCANNER_H_
#define QUORUMKV_STORAGE_NODE_QUORUM_SCANNER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "proto/kv.pb.h"
#include "storage_node/replica_access.h"

namespace quorumkv {

class QuorumScanner {
 public:
  using ScanDone = std::function<void(absl::StatusOr<ScanResponse>)>;

  // `replicas` must outlive the scanner and every scan in flight.
  explicit QuorumScanner(ReplicaAccess* replicas);

  // UNAVAILABLE (DEADLINE_EXCEEDED past the deadline) with QuorumNotReached
  // when fewer than `r` replicas gave their page.
  void Scan(DirectoryPtr directory, const ScanRequest& request, uint32_t r,
            absl::Time deadline, ScanDone done);

 private:
  struct Round;
  void Ask(const std::shared_ptr<Round>& round, const std::string& node_id);
  void OnPage(const std::shared_ptr<Round>& round, const std::string& node_id,
              absl::StatusOr<RangeResponse> page);

  ReplicaAccess* const replicas_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_QUORUM_SCANNER_H_
