// Durable home of the master's directory: a RocksDB database in the master's
// data dir, holding the serialized Directory (proto/master.proto) under the
// key "directory". Every write is synced before it returns, so a change is
// on disk before it is announced. Part of the on-disk format.
// Thread-compatible: DirectoryManager serializes calls.
#ifndef QUORUMKV_MASTER_DIRECTORY_STORE_H_
#define QUORUMKV_MASTER_DIRECTORY_STORE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "proto/master.pb.h"
#include "rocksdb/db.h"

namespace quorumkv {

class DirectoryStore {
 public:
  static absl::StatusOr<std::unique_ptr<DirectoryStore>> Open(
      const std::string& dir);

  // The stored directory; nullopt when none was ever stored.
  absl::StatusOr<std::optional<Directory>> Load() const;
  absl::Status Save(const Directory& directory);

 private:
  explicit DirectoryStore(std::unique_ptr<rocksdb::DB> db);
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_DIRECTORY_STORE_H_
