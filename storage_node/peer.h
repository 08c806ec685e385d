// One object per peer storage node, through which everything this node
// sends to another node travels: writes, reads, read repairs, hints and
// partition streams. It is the one place that knows the peer's address, the
// deadline of each kind of call, and whether the peer answers.
//
// Calls reach the wire through a PeerProxy, the seam that tests replace to
// drop, delay or pause a peer (tests/fault_injection.h).
//
// Thread-safe. Peer objects live as long as their PeerSet.
#ifndef QUORUMKV_STORAGE_NODE_PEER_H_
#define QUORUMKV_STORAGE_NODE_PEER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grpc_util.h"
#include "common/periodic_task.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "proto/replica.grpc.pb.h"

namespace quorumkv {

// The wire under a Peer. The default one sends writes and reads over the
// per-peer stream (storage_node/peer_stream.h) and partition streams over a
// call of their own; tests wrap it.
class PeerProxy {
 public:
  template <typename Response>
  using Done = std::function<void(absl::StatusOr<Response>)>;
  virtual ~PeerProxy() = default;
  // `done` runs once, on a gRPC thread or the deadline sweeper's, with the
  // peer's answer or why there is none.
  virtual void Apply(const ApplyRequest& request, absl::Time deadline,
                     Done<ApplyResponse> done) = 0;
  virtual void Read(const ReadRequest& request, absl::Time deadline,
                    Done<ReadResponse> done) = 0;
  // Anti-entropy (storage_node/anti_entropy.h).
  virtual void Tree(const TreeRequest& request, absl::Time deadline,
                    Done<TreeResponse> done) = 0;
  virtual void Rows(const RowsRequest& request, absl::Time deadline,
                    Done<RowsResponse> done) = 0;
  // A scan's page (storage_node/quorum_scanner.h).
  virtual void Range(const RangeRequest& request, absl::Time deadline,
                     Done<RangeResponse> done) = 0;
  // A step of a Paxos round (storage_node/paxos).
  virtual void Paxos(const PaxosRequest& request, absl::Time deadline,
                     Done<PaxosResponse> done) = 0;
  // A blocking reader of the partition stream; for background threads only.
  virtual std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>>
  StreamPartition(grpc::ClientContext* context,
                  const StreamPartitionRequest& request) = 0;
  // Fails the requests whose deadline is at or before `now`; called every
  // few milliseconds by the PeerSet.
  virtual void ExpireOverdue(absl::Time /*now*/) {}
  // False while the wire to the peer is known to be down: its connection
  // failed and waits to be tried again. Requests still wait for it until
  // their deadlines (it may be restarting); coordinators use this to know,
  // without waiting, that the peer cannot answer now. Cheap; called on
  // every request.
  virtual bool Reachable() { return true; }
  // The node is stopping: requests that wait for a peer that cannot be
  // reached fail now rather than at their deadlines, and later ones are
  // refused. Unless `unreachable_only`, the same for a live peer, except
  // that what was sent to it may still be answered (none is sent again).
  virtual void Shutdown(bool /*unreachable_only*/) {}
};

// Makes the proxy for a peer at `address`.
using PeerProxyFactory =
    std::function<std::unique_ptr<PeerProxy>(const std::string& address)>;

// The factory of real proxies (a gRPC channel per peer, secured as
// `security` says).
PeerProxyFactory GrpcPeerProxyFactory(ChannelSecurity security = {});

class Peer {
 public:
  Peer(std::string address, std::unique_ptr<PeerProxy> proxy);

  const std::string& address() const { return address_; }

  // Sends a write (or repair, or hint) with `deadline`; `done` gets the
  // outcome once, on a gRPC thread.
  void Apply(const ApplyRequest& request, absl::Time deadline,
             std::function<void(absl::StatusOr<ApplyResponse>)> done);
  void Read(const ReadRequest& request, absl::Time deadline,
            std::function<void(absl::StatusOr<ReadResponse>)> done);
  void Tree(const TreeRequest& request, absl::Time deadline,
            std::function<void(absl::StatusOr<TreeResponse>)> done);
  void Rows(const RowsRequest& request, absl::Time deadline,
            std::function<void(absl::StatusOr<RowsResponse>)> done);
  void Range(const RangeRequest& request, absl::Time deadline,
             std::function<void(absl::StatusOr<RangeResponse>)> done);
  void Paxos(const PaxosRequest& request, absl::Time deadline,
             std::function<void(absl::StatusOr<PaxosResponse>)> done);
  // Opens a partition stream; `context` must outlive the reader and carries
  // the stream's deadline and cancellation.
  std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>> StreamPartition(
      grpc::ClientContext* context, const StreamPartitionRequest& request);

  // False while its connection is down (PeerProxy::Reachable), and for a
  // while after a call failed for want of the peer (timed out), until one
  // succeeds or kRecheckAfter has passed: coordinators then try it again,
  // so a peer that came back is noticed even when nothing else was sent to
  // it.
  bool healthy() const;
  static constexpr absl::Duration kRecheckAfter = absl::Seconds(1);
  // Blocks until no call is in flight.
  void WaitIdle();

 private:
  friend class PeerSet;
  // Sends `request` through `method` of the proxy, counting the call in
  // flight and recording its outcome in the peer's health.
  template <typename Request, typename Response>
  void Call(void (PeerProxy::*method)(const Request&, absl::Time,
                                      PeerProxy::Done<Response>),
            const Request& request, absl::Time deadline,
            std::function<void(absl::StatusOr<Response>)> done);
  // Counts a call in; Record() counts it out with its outcome.
  void Begin();
  void Record(const absl::Status& status);

  const std::string address_;
  const std::unique_ptr<PeerProxy> proxy_;

  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // When the last call failed for want of the peer; InfinitePast once one
  // succeeded.
  absl::Time failed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// The peers of one storage node, by address, created on first use. Runs
// the sweeper that enforces every request's deadline.
class PeerSet {
 public:
  explicit PeerSet(PeerProxyFactory factory = GrpcPeerProxyFactory());
  ~PeerSet();  // Waits until no call is in flight.

  // Never null; lives as long as the set. Read-mostly: a reader lock finds
  // a known peer.
  Peer* Get(const std::string& address);
  // The node is stopping: what waits for a peer that cannot be reached
  // fails now (PeerProxy::Shutdown), so that background work waiting on it
  // ends; live peers are still served.
  void GiveUpOnUnreachable();
  // Called once nothing will be sent any more (the node has stopped
  // serving): gives up on every peer, then blocks until no call to any
  // peer is in flight (those sent to live peers are answered shortly).
  void WaitIdle();

 private:
  std::vector<Peer*> All();

  const PeerProxyFactory factory_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Peer>> peers_
      ABSL_GUARDED_BY(mu_);
  PeriodicTask sweeper_;  // Last: stopped before the peers go.
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PEER_H_
