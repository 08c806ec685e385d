// kv_master: the cluster's directory, membership and recursive relay.
#include "absl/flags/flag.h"
#include "common/byte_size.h"
#include "common/logging.h"
#include "common/directory.h"
#include "common/process.h"
#include "master/master.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7000", "host:port to serve on");
ABSL_FLAG(std::string, http_listen, "",
          "host:port of the status page (/), /api/status, /metrics and "
          "/healthz; off when empty");
ABSL_FLAG(std::string, tls_dir, "",
          "directory holding ca.pem, cert.pem and key.pem: every gRPC "
          "connection is mutual TLS (peers need a certificate signed by "
          "ca.pem) and HTTP is HTTPS; plaintext when empty");
ABSL_FLAG(std::string, auth_token_file, "",
          "file of \"ROLE TOKEN\" lines (ROLE data or admin): clients need "
          "a token, admin commands and nodes an admin one; off when empty");
ABSL_FLAG(std::string, data_dir, "", "data directory; required");
ABSL_FLAG(uint32_t, replication, 3,
          "N, replicas per partition (fixed when the cluster is created)");
ABSL_FLAG(uint32_t, partitions, 64,
          "P, partitions (fixed when the cluster is created)");
ABSL_FLAG(uint32_t, initial_nodes, 0,
          "storage nodes that must register before the directory is formed "
          "(0: N)");
ABSL_FLAG(absl::Duration, node_down_after, absl::Seconds(5),
          "a node without a heartbeat for this long is DOWN");
ABSL_FLAG(absl::Duration, replace_after, absl::Seconds(60),
          "a node DOWN for this long has its partitions re-replicated");
ABSL_FLAG(uint32_t, max_moves_per_node, 2,
          "partition moves in flight that may involve one node at a time");
ABSL_FLAG(quorumkv::ByteRate, stream_rate,
          quorumkv::ByteRate{64ull << 20},
          "bytes per second each partition stream may use (e.g. 64MB/s; "
          "0: unlimited)");

ABSL_FLAG(std::string, etcd, "",
          "HOST:PORT[,HOST:PORT...] of an etcd 3 cluster: masters with the "
          "same endpoints elect a leader and keep the directory there; off "
          "(one master, directory in --data_dir) when empty");
ABSL_FLAG(std::string, etcd_prefix, "/quorumkv",
          "where in etcd this cluster's keys live");
ABSL_FLAG(absl::Duration, master_lease, absl::Seconds(5),
          "the leader's etcd lease: a standby leads within about this long "
          "after the leader dies");
ABSL_FLAG(quorumkv::KeyHashFlag, key_hash,
          quorumkv::KeyHashFlag{quorumkv::KEY_HASH_REDIS_SLOTS},
          "how keys map to partitions, fixed when the cluster is created: "
          "redis_slots (Redis Cluster's hash slots) or xxh3");
ABSL_FLAG(std::vector<std::string>, linearizable_prefixes, {},
          "comma-separated key prefixes whose keys are linearizable: "
          "compare-and-set and counters serve them, and all their writes go "
          "through Paxos (default: none)");
ABSL_FLAG(std::string, advertise, "",
          "host:port other masters, nodes and clients reach this master at "
          "(default: --listen)");
ABSL_FLAG(absl::Duration, anti_entropy_interval, absl::Minutes(10),
          "compare a partition's replicas again once this long has passed "
          "since its last anti-entropy pass (oldest partition first)");

int main(int argc, char** argv) {
  quorumkv::ParseDaemonFlags(
      argc, argv, "kv_master",
      "kv_master --listen=HOST:PORT --data_dir=DIR [--replication=3] "
      "[--partitions=64] [--key_hash=redis_slots|xxh3] [--initial_nodes=N] [--node_down_after=5s] "
      "[--replace_after=60s] [--max_moves_per_node=2] [--stream_rate=64MB/s] "
      "[--anti_entropy_interval=10m] [--linearizable_prefixes=P,...] "
      "[--http_listen=HOST:PORT] [--tls_dir=DIR] "
      "[--auth_token_file=FILE] [--etcd=HOST:PORT,... [--etcd_prefix=/quorumkv] "
      "[--master_lease=5s] [--advertise=HOST:PORT]]",
      __FILE__);
  quorumkv::MasterOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.http_listen = absl::GetFlag(FLAGS_http_listen);
  options.auth_token_file = absl::GetFlag(FLAGS_auth_token_file);
  options.tls_dir = absl::GetFlag(FLAGS_tls_dir);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.replication = absl::GetFlag(FLAGS_replication);
  options.partitions = absl::GetFlag(FLAGS_partitions);
  options.initial_nodes = absl::GetFlag(FLAGS_initial_nodes);
  options.node_down_after = absl::GetFlag(FLAGS_node_down_after);
  options.replace_after = absl::GetFlag(FLAGS_replace_after);
  options.max_moves_per_node = absl::GetFlag(FLAGS_max_moves_per_node);
  options.stream_rate = absl::GetFlag(FLAGS_stream_rate).bytes_per_sec;
  options.anti_entropy_interval = absl::GetFlag(FLAGS_anti_entropy_interval);
  options.etcd = absl::GetFlag(FLAGS_etcd);
  options.etcd_prefix = absl::GetFlag(FLAGS_etcd_prefix);
  options.master_lease = absl::GetFlag(FLAGS_master_lease);
  options.advertise = absl::GetFlag(FLAGS_advertise);
  options.linearizable_prefixes = absl::GetFlag(FLAGS_linearizable_prefixes);
  options.key_hash = absl::GetFlag(FLAGS_key_hash).value;
  quorumkv::SetLogTag("master");

  quorumkv::ExitProcess(quorumkv::RunDaemon<quorumkv::Master>(
      "kv_master", [&] { return quorumkv::Master::Start(options); }));
}
