// What the masters keep in etcd under --etcd_prefix (docs/operations.md,
// "Masters on etcd"):
//
//   PREFIX/leader        the leader's host:port, bound to its lease; the
//                        key's create revision is the leader's term
//   PREFIX/directory     the directory (CompactDirectory)
//   PREFIX/states        the nodes the leader holds UP (NodeStates)
//   PREFIX/anti_entropy  what anti-entropy has completed
//                        (AntiEntropyProgress)
//
// Every write is a transaction that also checks that the leader key is
// still this master's, created at its term: the writes of a leader that
// was superseded fail (FAILED_PRECONDITION with NotLeader), whatever its
// clock says. Thread-safe.
#ifndef QUORUMKV_MASTER_ETCD_ETCD_STORE_H_
#define QUORUMKV_MASTER_ETCD_ETCD_STORE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "master/directory_store.h"
#include "master/etcd/etcd_client.h"
#include "master/leadership.h"

namespace quorumkv {

class EtcdStore final : public DirectoryStore {
 public:
  // `etcd` and `leadership` must outlive the store; `prefix` is
  // --etcd_prefix ("/quorumkv").
  EtcdStore(EtcdClient* etcd, std::string prefix, const Leadership* leadership);

  const std::string& prefix() const { return prefix_; }
  std::string leader_key() const { return prefix_ + "/leader"; }
  std::string directory_key() const { return prefix_ + "/directory"; }
  std::string states_key() const { return prefix_ + "/states"; }
  std::string anti_entropy_key() const { return prefix_ + "/anti_entropy"; }

  absl::StatusOr<std::optional<Directory>> Load() const override;
  absl::Status Save(const Directory& directory) override;
  absl::Status SaveNodeStates(const NodeStates& states) override;
  absl::Status SaveAntiEntropy(const AntiEntropyProgress& progress) override;
  absl::StatusOr<std::optional<AntiEntropyProgress>> LoadAntiEntropy()
      const override;

  absl::Status SaveAtTerm(const Directory& directory, uint64_t term) override;

  // The directory a value of directory_key() holds.
  static absl::StatusOr<Directory> DecodeDirectory(absl::string_view value);

 private:
  // Puts `value` under `key` if this master still leads at its term.
  absl::Status FencedPut(const std::string& key, std::string value,
                         absl::string_view what);
  // Puts `value` under `key` if the leader key was created at `term`.
  absl::Status PutAtTerm(uint64_t term, const std::string& key,
                         std::string value, absl::string_view what);
  // The value under `key`; nullopt when there is none.
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key) const;

  EtcdClient* const etcd_;
  const std::string prefix_;
  const Leadership* const leadership_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_ETCD_ETCD_STORE_H_
