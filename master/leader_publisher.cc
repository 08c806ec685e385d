#include "master/leader_publisher.h"

#include "absl/time/clock.h"
#include "common/logging.h"
#include "google/protobuf/util/message_differencer.h"

namespace quorumkv {
namespace {

// Often enough that a standby's states lag the leader's by little more
// than the leader's own judgement does (--node_down_after).
constexpr absl::Duration kInterval = absl::Milliseconds(250);
constexpr absl::Duration kProgressInterval = absl::Seconds(5);

bool Same(const google::protobuf::Message& a,
          const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace

LeaderPublisher::LeaderPublisher(const Leadership* leadership,
                                 const Membership* membership,
                                 const AntiEntropyScheduler* anti_entropy,
                                 DirectoryStore* store)
    : leadership_(leadership),
      membership_(membership),
      anti_entropy_(anti_entropy),
      store_(store),
      task_([this] { return Publish(); }) {}

LeaderPublisher::~LeaderPublisher() { Stop(); }

void LeaderPublisher::Start() { task_.Start(); }
void LeaderPublisher::Stop() { task_.Stop(); }

absl::Duration LeaderPublisher::Publish() {
  if (!leadership_->IsLeader()) {
    // A new term publishes afresh.
    states_published_ = false;
    progress_published_at_ = absl::InfinitePast();
    return kInterval;
  }
  const absl::Time now = absl::Now();
  NodeStates states = membership_->UpNow(now);
  states.set_term(leadership_->term());
  if (!states_published_ || !Same(states, published_states_)) {
    if (absl::Status s = store_->SaveNodeStates(states); s.ok()) {
      published_states_ = std::move(states);
      states_published_ = true;
    } else {
      QKV_LOG(WARNING) << s.message();
    }
  }
  if (now - progress_published_at_ >= kProgressInterval) {
    AntiEntropyProgress progress = anti_entropy_->Export();
    if (!Same(progress, published_progress_)) {
      if (absl::Status s = store_->SaveAntiEntropy(progress); s.ok()) {
        published_progress_ = std::move(progress);
      } else {
        QKV_LOG(WARNING) << s.message();
      }
    }
    progress_published_at_ = now;
  }
  return kInterval;
}

}  // namespace quorumkv
