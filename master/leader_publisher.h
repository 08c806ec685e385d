// What the leader publishes for the other masters, through its store
// (docs/architecture.md, "Masters"): the nodes it holds UP, whenever they
// change, so that standbys give the same states and route the relay alike;
// and anti-entropy's progress every few seconds while it changes, so that
// a new leader goes on from there. The embedded master's store keeps none
// of it. Thread-safe; runs on a thread of its own.
#ifndef QUORUMKV_MASTER_LEADER_PUBLISHER_H_
#define QUORUMKV_MASTER_LEADER_PUBLISHER_H_

#include "common/periodic_task.h"
#include "master/anti_entropy_scheduler.h"
#include "master/directory_store.h"
#include "master/leadership.h"
#include "master/membership.h"

namespace quorumkv {

class LeaderPublisher {
 public:
  // Pointers must outlive the publisher.
  LeaderPublisher(const Leadership* leadership, const Membership* membership,
                  const AntiEntropyScheduler* anti_entropy,
                  DirectoryStore* store);
  ~LeaderPublisher();  // Stop()s.

  void Start();
  void Stop();

 private:
  absl::Duration Publish();

  const Leadership* const leadership_;
  const Membership* const membership_;
  const AntiEntropyScheduler* const anti_entropy_;
  DirectoryStore* const store_;

  // The publisher's thread only.
  NodeStates published_states_;
  bool states_published_ = false;
  AntiEntropyProgress published_progress_;
  absl::Time progress_published_at_ = absl::InfinitePast();

  PeriodicTask task_;  // Last: stopped first.
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_LEADER_PUBLISHER_H_
