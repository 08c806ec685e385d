// A client of an etcd 3 cluster (Debian's etcd-server) over etcd's own v3
// gRPC API (proto/etcd.proto): the KV, Lease and Watch calls the masters
// need, no client library. One channel per endpoint (--etcd=a,b,c); a call
// that cannot reach a member goes on to the next, since any member serves
// (followers forward to etcd's leader).
//
// The calls block, each with its deadline: they are for the masters' own
// threads (election, watch), never a gRPC callback thread. Thread-safe.
#ifndef QUORUMKV_MASTER_ETCD_ETCD_CLIENT_H_
#define QUORUMKV_MASTER_ETCD_ETCD_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/etcd.grpc.pb.h"

namespace quorumkv {

// The end of the key range that holds every key starting with `prefix`.
std::string PrefixEnd(absl::string_view prefix);

class EtcdClient {
 public:
  // `endpoints`: "HOST:PORT[,HOST:PORT...]"; INVALID_ARGUMENT naming
  // --etcd for an empty list or a malformed or repeated address.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(
      absl::string_view endpoints);

  // "host:port,host:port", for messages.
  const std::string& endpoints() const { return list_; }

  // Each call tries the member that answered last, then the others while
  // they cannot be reached or have no quorum (UNAVAILABLE, or the deadline
  // passed). The error then names every member and why.
  absl::StatusOr<etcdserverpb::RangeResponse> Range(
      const etcdserverpb::RangeRequest& request, absl::Duration timeout);
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(
      const etcdserverpb::TxnRequest& request, absl::Duration timeout);
  // A lease of `ttl` (whole seconds, at least 1).
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> LeaseGrant(
      absl::Duration ttl, absl::Duration timeout);
  absl::Status LeaseRevoke(int64_t id, absl::Duration timeout);
  // Renews lease `id` once (one request on a stream of its own, so the
  // deadline covers it). NOT_FOUND when the lease is gone.
  absl::StatusOr<etcdserverpb::LeaseKeepAliveResponse> KeepAlive(
      int64_t id, absl::Duration timeout);

  // Follows the keys under `prefix` from `start_revision` on, on a thread
  // of its own: `on_events` gets each batch of changes in order (with the
  // revision they bring the store to); after a broken stream it resumes
  // from the next revision on another member. When that revision is gone
  // (compacted), `on_events` gets `reset` true and every key as a PUT, read
  // afresh. Stop() (or destruction) ends it.
  class Watcher {
   public:
    using OnEvents = std::function<void(
        const std::vector<etcdserverpb::Event>& events, int64_t revision,
        bool reset)>;
    ~Watcher();
    void Stop();

   private:
    friend class EtcdClient;
    Watcher(EtcdClient* client, std::string prefix, int64_t start_revision,
            OnEvents on_events);
    void Loop();
    // Reads every key under the prefix and reports them as a reset.
    bool ReadAll(int64_t* next_revision);

    EtcdClient* const client_;
    const std::string prefix_;
    const OnEvents on_events_;
    int64_t start_revision_;

    absl::Mutex mu_;
    bool stopping_ ABSL_GUARDED_BY(mu_) = false;
    grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
    std::thread thread_;  // Last: started once the rest is ready.
  };
  std::unique_ptr<Watcher> Watch(std::string prefix, int64_t start_revision,
                                 Watcher::OnEvents on_events);

 private:
  struct Member {
    std::string address;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  };
  explicit EtcdClient(std::string list) : list_(std::move(list)) {}

  // Runs `call` on each member in turn from the preferred one, until one
  // answers with anything but UNAVAILABLE or DEADLINE_EXCEEDED.
  template <typename Response>
  absl::StatusOr<Response> OnAnyMember(
      absl::string_view what, absl::Duration timeout,
      const std::function<grpc::Status(Member&, grpc::ClientContext*,
                                       Response*)>& call);

  const std::string list_;
  std::vector<Member> members_;  // constant after Create
  std::atomic<size_t> preferred_{0};
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_ETCD_ETCD_CLIENT_H_
