// Writes a key, reads it back, deletes it and checks it is gone, in the
// query mode given. Usage: quorumkv_example MASTER_HOST:PORT
// [iterative|recursive]. Exits 0 when every step did what it should, 1
// otherwise, saying which step failed and why.
#include <cstdio>
#include <string>

#include "quorumkv/client.h"

namespace {

int Fail(const char* step, const absl::Status& status) {
  std::fprintf(stderr, "%s failed: %s\n", step, status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s MASTER_HOST:PORT [iterative|recursive]\n",
                 argv[0]);
    return 2;
  }
  quorumkv::ClientOptions options;
  options.master = argv[1];
  if (argc == 3) {
    absl::StatusOr<quorumkv::QueryMode> mode = quorumkv::ParseQueryMode(argv[2]);
    if (!mode.ok()) return Fail("mode", mode.status());
    options.mode = *mode;
  }
  absl::StatusOr<std::unique_ptr<quorumkv::Client>> client =
      quorumkv::Client::Create(options);
  if (!client.ok()) return Fail("connect", client.status());

  const std::string key = "example-key";
  const std::string value = "hello from the installed SDK";
  absl::StatusOr<quorumkv::WriteResult> written = (*client)->Put(key, value);
  if (!written.ok()) return Fail("put", written.status());
  std::printf("put %s: %u acks, version %s\n", key.c_str(), written->acks,
              written->version.c_str());

  absl::StatusOr<quorumkv::ReadResult> read = (*client)->Get(key);
  if (!read.ok()) return Fail("get", read.status());
  if (read->value != value) {
    std::fprintf(stderr, "get returned '%s', not what was put\n",
                 read->value.c_str());
    return 1;
  }
  std::printf("get %s: %s\n", key.c_str(), read->value.c_str());

  absl::StatusOr<quorumkv::WriteResult> deleted = (*client)->Delete(key);
  if (!deleted.ok()) return Fail("delete", deleted.status());
  if (!absl::IsNotFound((*client)->Get(key).status())) {
    std::fprintf(stderr, "the key is still there after delete\n");
    return 1;
  }
  std::printf("deleted %s (existed: %s)\n", key.c_str(),
              deleted->existed ? "yes" : "no");
  return 0;
}
