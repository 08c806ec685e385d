#include "master/etcd/etcd_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/directory_codec.h"
#include "common/rpc_status.h"

namespace quorumkv {
namespace {

using etcdserverpb::Compare;

// A write must end well within a third of the shortest lease, so that a
// leader that cannot write learns it before its lease could run out.
constexpr absl::Duration kWriteTimeout = absl::Seconds(1);
constexpr absl::Duration kReadTimeout = absl::Seconds(2);

}  // namespace

EtcdStore::EtcdStore(EtcdClient* etcd, std::string prefix,
                     const Leadership* leadership)
    : etcd_(etcd), prefix_(std::move(prefix)), leadership_(leadership) {}

absl::StatusOr<Directory> EtcdStore::DecodeDirectory(absl::string_view value) {
  CompactDirectory compact;
  if (!compact.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("the directory in etcd does not parse");
  }
  return Expand(compact);
}

absl::StatusOr<std::optional<std::string>> EtcdStore::Get(
    const std::string& key) const {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  absl::StatusOr<etcdserverpb::RangeResponse> response =
      etcd_->Range(request, kReadTimeout);
  if (!response.ok()) return response.status();
  if (response->kvs_size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(response->kvs(0).value());
}

absl::StatusOr<std::optional<Directory>> EtcdStore::Load() const {
  absl::StatusOr<std::optional<std::string>> value = Get(directory_key());
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<Directory>();
  absl::StatusOr<Directory> directory = DecodeDirectory(**value);
  if (!directory.ok()) return directory.status();
  return std::optional<Directory>(*std::move(directory));
}

absl::Status EtcdStore::FencedPut(const std::string& key, std::string value,
                                  absl::string_view what) {
  if (!leadership_->IsLeader()) {
    NotLeader detail;
    detail.set_term(leadership_->term());
    return NotLeaderError(detail, absl::StrCat("cannot save ", what,
                                               ": this master does not lead"));
  }
  return PutAtTerm(leadership_->term(), key, std::move(value), what);
}

absl::Status EtcdStore::PutAtTerm(uint64_t term, const std::string& key,
                                  std::string value, absl::string_view what) {
  auto not_leader = [&](absl::string_view why) {
    NotLeader detail;
    detail.set_term(term);
    return NotLeaderError(detail, absl::StrCat("cannot save ", what, ": ", why));
  };
  etcdserverpb::TxnRequest txn;
  Compare* ours = txn.add_compare();
  ours->set_key(leader_key());
  ours->set_target(Compare::CREATE);
  ours->set_result(Compare::EQUAL);
  ours->set_create_revision(static_cast<int64_t>(term));
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(std::move(value));
  absl::StatusOr<etcdserverpb::TxnResponse> response =
      etcd_->Txn(txn, kWriteTimeout);
  if (!response.ok()) return response.status();
  if (!response->succeeded()) {
    return not_leader(absl::StrCat("the leader key is no longer this "
                                   "master's (term ", term, ")"));
  }
  return absl::OkStatus();
}

absl::Status EtcdStore::Save(const Directory& directory) {
  return FencedPut(directory_key(), Compact(directory).SerializeAsString(),
                   absl::StrCat("directory epoch ", directory.epoch()));
}

absl::Status EtcdStore::SaveAtTerm(const Directory& directory, uint64_t term) {
  return PutAtTerm(term, directory_key(), Compact(directory).SerializeAsString(),
                   absl::StrCat("directory epoch ", directory.epoch()));
}

absl::Status EtcdStore::SaveNodeStates(const NodeStates& states) {
  return FencedPut(states_key(), states.SerializeAsString(), "node states");
}

absl::Status EtcdStore::SaveAntiEntropy(const AntiEntropyProgress& progress) {
  return FencedPut(anti_entropy_key(), progress.SerializeAsString(),
                   "anti-entropy progress");
}

absl::StatusOr<std::optional<AntiEntropyProgress>> EtcdStore::LoadAntiEntropy()
    const {
  absl::StatusOr<std::optional<std::string>> value = Get(anti_entropy_key());
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<AntiEntropyProgress>();
  AntiEntropyProgress progress;
  if (!progress.ParseFromString(**value)) {
    return absl::DataLossError("the anti-entropy progress in etcd does not parse");
  }
  return std::optional<AntiEntropyProgress>(std::move(progress));
}

}  // namespace quorumkv
