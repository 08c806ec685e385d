// kv_storage_node: serves a share of the cluster's partitions.
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/byte_size.h"
#include "common/logging.h"
#include "common/process.h"
#include "storage_node/storage_node.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7101", "host:port to serve on");
ABSL_FLAG(std::string, http_listen, "",
          "host:port of /metrics and /healthz; off when empty");
ABSL_FLAG(std::string, redis_listen, "",
          "host:port of the Redis (RESP2/RESP3) front door: any Redis client "
          "reads and writes the cluster's keys there; off when empty");
ABSL_FLAG(std::string, memcached_listen, "",
          "host:port of the memcached (text protocol) front door; off when "
          "empty");
ABSL_FLAG(bool, memcached_flush_all, false,
          "let the memcached door's flush_all delete every key of the "
          "cluster (refused otherwise)");
ABSL_FLAG(std::string, tls_dir, "",
          "directory holding ca.pem, cert.pem and key.pem: every gRPC "
          "connection is mutual TLS (peers need a certificate signed by "
          "ca.pem) and HTTP is HTTPS; plaintext when empty");
ABSL_FLAG(std::string, auth_token_file, "",
          "file of \"ROLE TOKEN\" lines (ROLE data or admin): clients need "
          "a token, peers an admin one; off when empty");
ABSL_FLAG(std::string, master, "127.0.0.1:7000",
          "host:port of the master, or HOST:PORT,HOST:PORT,... of several "
          "masters (the leader is found among them)");
ABSL_FLAG(std::string, rack, "", "rack (failure domain) of this node; required");
ABSL_FLAG(bool, stay_after_removal, false,
          "keep running, idle, once a decommission has removed this node "
          "(default: log \"decommissioned: holds nothing, safe to stop\" and "
          "exit 0)");
ABSL_FLAG(std::string, name, "",
          "what operators call this node, shown beside its id (default: the "
          "last part of --data_dir)");
ABSL_FLAG(std::string, data_dir, "", "data directory; required");
ABSL_FLAG(std::string, advertise, "",
          "host:port others reach this node at (default: --listen)");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(1),
          "interval between heartbeats to the master");
ABSL_FLAG(bool, sync_writes, false,
          "sync RocksDB's write-ahead log before acknowledging a write (rows "
          "arriving together share one sync); off: a write survives a crash "
          "of the process but not of the machine");

ABSL_FLAG(quorumkv::ByteSize, cache_size, quorumkv::ByteSize{0},
          "RAM for hot rows: RocksDB's block cache (3/4) and row cache (1/4), "
          "least recently used out first (e.g. 512MB; 0: a sixteenth of the "
          "machine's memory, at most 1GB)");
ABSL_FLAG(absl::Duration, hint_window, absl::Hours(3),
          "a replica that has missed writes for longer gets no new hints, "
          "and hints older than this are dropped; anti-entropy repairs it");
ABSL_FLAG(quorumkv::ByteSize, max_hint_bytes, quorumkv::ByteSize{uint64_t{1} << 30},
          "most bytes of hints kept for one replica (e.g. 1GB, 256MB)");

int main(int argc, char** argv) {
  quorumkv::ParseDaemonFlags(
      argc, argv, "kv_storage_node",
      "kv_storage_node --listen=HOST:PORT --master=HOST:PORT[,...] --rack=RACK "
      "--data_dir=DIR [--name=NAME] [--advertise=HOST:PORT] "
      "[--heartbeat_interval=1s] [--stay_after_removal] "
      "[--sync_writes] [--cache_size=SIZE] [--hint_window=3h] [--max_hint_bytes=1GB] [--http_listen=HOST:PORT] [--redis_listen=HOST:PORT] "
      "[--memcached_listen=HOST:PORT [--memcached_flush_all]] [--tls_dir=DIR] [--auth_token_file=FILE]",
      __FILE__);
  quorumkv::StorageNodeOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.http_listen = absl::GetFlag(FLAGS_http_listen);
  options.redis_listen = absl::GetFlag(FLAGS_redis_listen);
  options.memcached_listen = absl::GetFlag(FLAGS_memcached_listen);
  options.memcached_flush_all = absl::GetFlag(FLAGS_memcached_flush_all);
  options.auth_token_file = absl::GetFlag(FLAGS_auth_token_file);
  options.tls_dir = absl::GetFlag(FLAGS_tls_dir);
  options.master = absl::GetFlag(FLAGS_master);
  options.rack = absl::GetFlag(FLAGS_rack);
  options.name = absl::GetFlag(FLAGS_name);
  options.stay_after_removal = absl::GetFlag(FLAGS_stay_after_removal);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.advertise = absl::GetFlag(FLAGS_advertise);
  options.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.sync_writes = absl::GetFlag(FLAGS_sync_writes);
  options.cache_bytes = absl::GetFlag(FLAGS_cache_size).bytes;
  options.hint_limits.window = absl::GetFlag(FLAGS_hint_window);
  options.hint_limits.max_bytes_per_target =
      absl::GetFlag(FLAGS_max_hint_bytes).bytes;
  quorumkv::SetLogTag(absl::StrCat("node ", options.rack, " ", options.listen));

  quorumkv::ExitProcess(quorumkv::RunDaemon<quorumkv::StorageNode>(
      "kv_storage_node",
      [&] { return quorumkv::StorageNode::Start(options); }));
}
