#include "storage_node/ownership.h"

#include "absl/strings/str_cat.h"
#include "common/rpc_status.h"

namespace quorumkv {

absl::Status CheckFormed(const DirectoryView& directory) {
  if (directory.formed()) return absl::OkStatus();
  return absl::UnavailableError(
      "this storage node has no directory yet (the cluster is still forming "
      "or the master is unreachable)");
}

namespace {

WrongNode Detail(const DirectoryView& directory, const std::string& self_id,
                 uint32_t partition) {
  WrongNode detail;
  detail.set_epoch(directory.epoch());
  detail.set_node_id(self_id);
  detail.set_partition(partition);
  return detail;
}

}  // namespace

absl::Status CheckSenderEpoch(const DirectoryView& directory,
                              const std::string& self_id,
                              uint64_t sender_epoch,
                              const std::function<void()>& request_refresh) {
  if (sender_epoch <= directory.epoch()) return absl::OkStatus();
  request_refresh();
  return WrongNodeError(
      Detail(directory, self_id, 0),
      absl::StrCat("node ", self_id, " has directory epoch ",
                   directory.epoch(), ", older than the sender's ",
                   sender_epoch, "; retry shortly"));
}

absl::Status CheckHolds(const DirectoryView& directory,
                        const std::string& self_id, uint32_t partition) {
  if (directory.Holds(self_id, partition)) return absl::OkStatus();
  return WrongNodeError(
      Detail(directory, self_id, partition),
      absl::StrCat("node ", self_id, " does not hold partition ", partition,
                   " at epoch ", directory.epoch()));
}

}  // namespace quorumkv
