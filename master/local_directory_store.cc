#include "master/local_directory_store.h"

#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

constexpr char kDirectoryKey[] = "directory";

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(what, ": ", s.ToString()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalDirectoryStore>> LocalDirectoryStore::Open(
    const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening RocksDB in ", dir));
  return std::unique_ptr<LocalDirectoryStore>(
      new LocalDirectoryStore(std::unique_ptr<rocksdb::DB>(raw)));
}

LocalDirectoryStore::LocalDirectoryStore(std::unique_ptr<rocksdb::DB> db)
    : db_(std::move(db)) {}

absl::StatusOr<std::optional<Directory>> LocalDirectoryStore::Load() const {
  std::string bytes;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kDirectoryKey, &bytes);
  if (s.IsNotFound()) return std::optional<Directory>();
  if (!s.ok()) return FromRocks(s, "reading the directory");
  Directory directory;
  if (!directory.ParseFromString(bytes)) {
    return absl::DataLossError("the stored directory is corrupt");
  }
  return std::optional<Directory>(std::move(directory));
}

absl::Status LocalDirectoryStore::Save(const Directory& directory) {
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocks(
      db_->Put(options, kDirectoryKey, directory.SerializeAsString()),
      "saving the directory");
}

}  // namespace quorumkv
