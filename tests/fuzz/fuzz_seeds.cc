// fuzz_seeds KIND DIR: writes valid inputs of one fuzzer (record, hint or
// request) into DIR, the corpus its CTest entry starts from.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "proto/kv.pb.h"
#include "storage_node/hint_format.h"
#include "storage_node/record.h"

namespace {

using namespace quorumkv;

VersionedValue Value(uint64_t wall_ms, bool tombstone, const std::string& bytes) {
  VersionedValue value;
  value.mutable_version()->set_wall_ms(wall_ms);
  value.mutable_version()->set_logical(7);
  value.mutable_version()->set_node_id("3afc6430470c");
  value.set_tombstone(tombstone);
  value.set_value(bytes);
  return value;
}

std::vector<std::string> Records() {
  return {EncodeRecord(Value(1795286607828, false, "hello")),
          EncodeRecord(Value(1795286607829, true, "")),
          EncodeRecord(Value(1, false, std::string(300, 'x'))),
          EncodeRowKey(7, "greeting")};
}

std::vector<std::string> Hints() {
  std::vector<std::string> hints;
  for (const char* target : {"88db7c301582", "n"}) {
    ApplyRequest request;
    request.set_partition(3);
    request.set_key("greeting");
    *request.mutable_value() = Value(1795286607828, false, "hello");
    request.set_directory_epoch(12);
    const std::string key = EncodeHintKey(target, 42);
    hints.push_back(std::string(1, static_cast<char>(key.size())) + key +
                    request.SerializeAsString());
  }
  return hints;
}

std::vector<std::string> Requests() {
  KvRequestBatch batch;
  KvRequest* put = batch.add_requests();
  put->set_id(1);
  put->set_timeout_ms(1000);
  put->mutable_put()->set_key("greeting");
  put->mutable_put()->set_value("hello");
  put->mutable_put()->set_w(2);
  KvRequest* get = batch.add_requests();
  get->set_id(2);
  get->mutable_get()->set_key("greeting");
  get->mutable_get()->set_r(3);
  KvRequest* del = batch.add_requests();
  del->set_id(3);
  del->mutable_del()->set_key("greeting");
  KvRequestBatch bad;
  KvRequest* empty_key = bad.add_requests();
  empty_key->set_id(4);
  empty_key->mutable_put()->set_key("");
  empty_key->mutable_put()->set_w(9);
  return {batch.SerializeAsString(), bad.SerializeAsString()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_seeds record|hint|request DIR\n");
    return 2;
  }
  const std::string kind = argv[1];
  const std::vector<std::string> seeds = kind == "record" ? Records()
                                         : kind == "hint" ? Hints()
                                         : kind == "request"
                                             ? Requests()
                                             : std::vector<std::string>();
  if (seeds.empty()) {
    std::fprintf(stderr, "fuzz_seeds: unknown kind %s\n", argv[1]);
    return 2;
  }
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream(std::string(argv[2]) + "/seed" + std::to_string(i),
                  std::ios::binary)
        << seeds[i];
  }
  return 0;
}
