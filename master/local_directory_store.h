// The embedded master's store (master/directory_store.h): a RocksDB
// database in the master's data dir, holding the serialized Directory
// (proto/master.proto) under the key "directory". Every write is synced
// before it returns, so a change is on disk before it is announced. Part
// of the on-disk format. Thread-compatible: DirectoryManager serializes
// calls.
#ifndef QUORUMKV_MASTER_LOCAL_DIRECTORY_STORE_H_
#define QUORUMKV_MASTER_LOCAL_DIRECTORY_STORE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "master/directory_store.h"
#include "proto/master.pb.h"
#include "rocksdb/db.h"

namespace quorumkv {

class LocalDirectoryStore final : public DirectoryStore {
 public:
  static absl::StatusOr<std::unique_ptr<LocalDirectoryStore>> Open(
      const std::string& dir);

  absl::StatusOr<std::optional<Directory>> Load() const override;
  absl::Status Save(const Directory& directory) override;

 private:
  explicit LocalDirectoryStore(std::unique_ptr<rocksdb::DB> db);
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_LOCAL_DIRECTORY_STORE_H_
