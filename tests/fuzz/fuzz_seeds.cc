// fuzz_seeds KIND DIR: writes valid inputs of one fuzzer (record, hint,
// request, memcached or resp) into DIR, the corpus its CTest entry starts from.
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

// What memcached clients send: sets with noreply, several sets in one
// send, multigets, gets then cas, counters, the meta commands.
std::vector<std::string> Memcached() {
  return {"set greeting 0 0 5 noreply\r\nhello\r\n",
          "set user:1 16 3600 11 noreply\r\nhello world\r\n"
          "set user:2 16 3600 3 noreply\r\nbye\r\n",
          "get user:1 user:2 user:3\r\n",
          "gets greeting\r\ncas greeting 0 0 2 1379268097431815\r\nhi\r\n",
          "add lock 0 30 1 noreply\r\n1\r\nreplace lock 0 30 1\r\n2\r\n"
          "append lock 0 0 1\r\n3\r\nprepend lock 0 0 1\r\n0\r\n",
          "incr counter 1\r\ndecr counter 5 noreply\r\n",
          "delete greeting noreply\r\ntouch user:1 60\r\ngat 60 user:1\r\n",
          "mg user:1 v f c t s k Oreq1 q\r\nmn\r\n",
          "ms user:1 3 T60 F16 c MS\r\nbar\r\n",
          "md user:1 q C1379268097431815\r\nma hits N0 J10 D2 v t\r\n",
          "version\r\nstats\r\nverbosity 1\r\nflush_all\r\nquit\r\n"};
}

// What Redis clients send: redis-py's and redis-cli's arrays of bulk
// strings, pipelined; redis-benchmark's inline PING; HELLO 3 and AUTH;
// a binary value.
std::vector<std::string> Resp() {
  return {"*3\r\n$3\r\nSET\r\n$5\r\nmykey\r\n$5\r\nhello\r\n",
          "*2\r\n$3\r\nGET\r\n$5\r\nmykey\r\n*1\r\n$4\r\nPING\r\n"
          "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n",
          "PING\r\n",
          "set k \"a b\\x41\" 'c'\r\n",
          "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*3\r\n$4\r\nAUTH\r\n$7\r\n"
          "default\r\n$5\r\ntoken\r\n",
          std::string("*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$4\r\n\0\xff\r\n\r\n", 30),
          "*4\r\n$4\r\nSCAN\r\n$1\r\n0\r\n$5\r\nMATCH\r\n$6\r\nuser:*\r\n"};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr,
                 "usage: fuzz_seeds record|hint|request|memcached|resp DIR\n");
    return 2;
  }
  const std::string kind = argv[1];
  const std::vector<std::string> seeds = kind == "record" ? Records()
                                         : kind == "hint" ? Hints()
                                         : kind == "request" ? Requests()
                                         : kind == "memcached" ? Memcached()
                                         : kind == "resp" ? Resp()
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
