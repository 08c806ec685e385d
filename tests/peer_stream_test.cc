// The per-peer stream (storage_node/peer_stream.h, common/batch_stream.h)
// against a scripted peer on 127.0.0.1: batching, order, requests sent again
// when the peer restarts, answers when it vanishes for good, bounded memory
// when it stalls, deadlines.
#include "storage_node/peer_stream.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc_util.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

// A peer that acknowledges every write in arrival order, records what it
// got, and can be told to stop reading (a stalled peer) or to hold its
// replies (a peer that dies before answering).
class ScriptedPeer final : public ReplicaService::CallbackService {
 public:
  grpc::ServerBidiReactor<PeerRequestBatch, PeerReplyBatch>* Exchange(
      grpc::CallbackServerContext*) override {
    return new Handler(this);
  }

  void set_hold_replies(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_replies_ = hold;
  }
  // Stops reading once the current message is handled, until Resume().
  void Stall() {
    absl::MutexLock lock(&mu_);
    stalled_ = true;
  }
  std::vector<std::string> keys() const {
    absl::MutexLock lock(&mu_);
    return keys_;
  }
  size_t received() const {
    absl::MutexLock lock(&mu_);
    return keys_.size();
  }

 private:
  class Handler final
      : public grpc::ServerBidiReactor<PeerRequestBatch, PeerReplyBatch> {
   public:
    explicit Handler(ScriptedPeer* peer) : peer_(peer) { StartRead(&in_); }
    void OnReadDone(bool ok) override {
      if (!ok) {
        FinishOnce();
        return;
      }
      bool hold, stalled;
      {
        absl::MutexLock lock(&peer_->mu_);
        for (const PeerRequest& r : in_.requests()) {
          peer_->keys_.push_back(r.apply().key());
        }
        hold = peer_->hold_replies_;
        stalled = peer_->stalled_;
      }
      if (!hold) {
        out_.Clear();
        for (const PeerRequest& r : in_.requests()) {
          PeerReply* reply = out_.add_replies();
          reply->set_id(r.id());
          reply->mutable_apply()->set_applied(true);
        }
        StartWrite(&out_);  // the next read starts once it is sent
        stalled_ = stalled;
      } else if (!stalled) {
        StartRead(&in_);
      }
    }
    void OnWriteDone(bool ok) override {
      if (ok && !stalled_) StartRead(&in_);
    }
    // A stalled handler has no read to fail when the call is cancelled.
    void OnCancel() override { FinishOnce(); }
    void OnDone() override { delete this; }

   private:
    void FinishOnce() {
      if (!finished_.exchange(true)) Finish(grpc::Status::OK);
    }

    ScriptedPeer* const peer_;
    std::atomic<bool> finished_{false};
    PeerRequestBatch in_;
    PeerReplyBatch out_;
    bool stalled_ = false;
  };

  mutable absl::Mutex mu_;
  bool hold_replies_ ABSL_GUARDED_BY(mu_) = false;
  bool stalled_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> keys_ ABSL_GUARDED_BY(mu_);
};

PeerRequest Write(const std::string& key, size_t value_bytes = 10) {
  PeerRequest request;
  request.mutable_apply()->set_key(key);
  request.mutable_apply()->mutable_value()->set_value(
      std::string(value_bytes, 'v'));
  return request;
}

// Collects the answers to many requests.
class Answers {
 public:
  PeerStream::Done Expect() {
    {
      absl::MutexLock lock(&mu_);
      ++expected_;
    }
    return [this](absl::StatusOr<PeerReply> reply) {
      absl::MutexLock lock(&mu_);
      ++by_code_[reply.status().code()];
      sent_ += WasSent(reply.status());
      ++answered_;
    };
  }
  bool AllIn(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return answered_ == expected_;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
  int count(absl::StatusCode code) {
    absl::MutexLock lock(&mu_);
    return by_code_[code];
  }
  int answered() {
    absl::MutexLock lock(&mu_);
    return answered_;
  }
  // Failures marked as coming after the request left (WasSent).
  int sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }

 private:
  absl::Mutex mu_;
  int expected_ ABSL_GUARDED_BY(mu_) = 0;
  int answered_ ABSL_GUARDED_BY(mu_) = 0;
  int sent_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<absl::StatusCode, int> by_code_ ABSL_GUARDED_BY(mu_);
};

class PeerStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string bound;
    auto server = StartServer("127.0.0.1:0", {&peer_}, &bound);
    ASSERT_OK(server);
    server_ = *std::move(server);
    address_ = bound;
  }
  std::unique_ptr<PeerStream> Connect(
      BatchStreamOptions options = PeerStreamOptions()) {
    return ConnectPeerStream(address_, MakeChannel(address_), options);
  }
  absl::Time Soon() { return absl::Now() + absl::Seconds(20); }
  // Stops the peer's server at once and starts a new one on the same port.
  void RestartPeer() {
    const int port = std::stoi(address_.substr(address_.rfind(':') + 1));
    server_->Shutdown(absl::ToChronoTime(absl::Now()));
    server_.reset();
    std::string bound;
    auto server =
        StartServer(absl::StrCat("127.0.0.1:", port), {&peer_}, &bound);
    ASSERT_OK(server);
    server_ = *std::move(server);
  }
  // Runs `stream`'s deadline sweep until `answers` are all in or `timeout`
  // passes, as the PeerSet's sweeper would.
  static bool SweepUntilAnswered(PeerStream& stream, Answers& answers,
                                 absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    while (absl::Now() < until) {
      if (answers.AllIn(absl::Milliseconds(5))) return true;
      stream.ExpireOverdue(absl::Now());
    }
    return answers.AllIn(absl::ZeroDuration());
  }

  ScriptedPeer peer_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(PeerStreamTest, ManyWritesTravelInFewMessagesInOrder) {
  auto stream = Connect();
  Answers answers;
  constexpr int kWrites = 2000;
  for (int i = 0; i < kWrites; ++i) {
    stream->Send(Write(absl::StrCat("k", i % 7, "-", i)), Soon(),
                 answers.Expect());
  }
  ASSERT_TRUE(answers.AllIn(absl::Seconds(20)));
  EXPECT_EQ(answers.count(absl::StatusCode::kOk), kWrites);
  const BatchStreamCounters counters = stream->counters();
  EXPECT_EQ(counters.requests, kWrites);
  EXPECT_LE(counters.messages, 100u) << "writes were not batched";
  EXPECT_EQ(counters.streams, 1u);
  // The peer saw every write, each key's writes in the order sent.
  const std::vector<std::string> keys = peer_.keys();
  ASSERT_EQ(keys.size(), static_cast<size_t>(kWrites));
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_EQ(keys[i], absl::StrCat("k", i % 7, "-", i));
  }
}

TEST_F(PeerStreamTest, WritesUnansweredWhenThePeerRestartsAreSentAgain) {
  auto stream = Connect();
  Answers answers;
  peer_.set_hold_replies(true);
  for (int i = 0; i < 300; ++i) {
    stream->Send(Write(absl::StrCat("k", i)), Soon(), answers.Expect());
  }
  // One message is with the peer (the window), the rest wait behind it.
  ASSERT_EVENTUALLY(peer_.received() > 0, absl::Seconds(20));
  const size_t first_message = peer_.received();
  peer_.set_hold_replies(false);
  ASSERT_NO_FATAL_FAILURE(RestartPeer());
  // The restarted peer answers all of them, the unanswered ones included,
  // each once and in the order first sent.
  ASSERT_TRUE(answers.AllIn(absl::Seconds(20)));
  EXPECT_EQ(answers.count(absl::StatusCode::kOk), 300);
  EXPECT_EQ(stream->counters().resent, first_message);
  const std::vector<std::string> keys = peer_.keys();
  ASSERT_EQ(keys.size(), 300 + first_message);
  for (size_t i = 0; i < 300; ++i) {
    EXPECT_EQ(keys[first_message + i], absl::StrCat("k", i));
  }
}

TEST_F(PeerStreamTest, APeerGoneForGoodFailsEachRequestAtItsDeadline) {
  auto stream = Connect();
  Answers answers;
  peer_.set_hold_replies(true);
  const absl::Time deadline = absl::Now() + absl::Milliseconds(1500);
  for (int i = 0; i < 300; ++i) {
    stream->Send(Write(absl::StrCat("k", i)), deadline, answers.Expect());
  }
  ASSERT_EVENTUALLY(peer_.received() > 0, absl::Seconds(20));
  server_->Shutdown(absl::ToChronoTime(absl::Now()));
  server_.reset();
  // Not before the deadline: the peer might come back until then.
  while (absl::Now() < deadline - absl::Milliseconds(200)) {
    stream->ExpireOverdue(absl::Now());
    ASSERT_EQ(answers.answered(), 0);
    answers.AllIn(absl::Milliseconds(20));
  }
  ASSERT_TRUE(SweepUntilAnswered(*stream, answers, absl::Seconds(10)));
  EXPECT_EQ(answers.count(absl::StatusCode::kDeadlineExceeded), 300);
  // Those the peer received may have taken effect; the caller is told.
  EXPECT_GE(answers.sent(), static_cast<int>(peer_.received()));
}

TEST_F(PeerStreamTest, WithoutResendAPeerThatVanishesFailsWhatItHeld) {
  // The SDK's streams to the nodes: a client's write is not resent (a
  // coordinator would stamp it again), it fails at once and says so.
  BatchStreamOptions options = PeerStreamOptions();
  options.resend_unanswered = false;
  auto stream = Connect(options);
  Answers answers;
  peer_.set_hold_replies(true);
  for (int i = 0; i < 300; ++i) {
    stream->Send(Write(absl::StrCat("k", i)), Soon(), answers.Expect());
  }
  ASSERT_EVENTUALLY(peer_.received() > 0, absl::Seconds(20));
  const int first_message = static_cast<int>(peer_.received());
  server_->Shutdown(absl::ToChronoTime(absl::Now()));
  ASSERT_TRUE(answers.AllIn(absl::Seconds(20)));
  EXPECT_EQ(answers.count(absl::StatusCode::kUnavailable), 300);
  // The message the peer held may have taken effect; the later ones went
  // on calls that never connected (their writes failed), so they did not.
  EXPECT_EQ(answers.sent(), first_message);
}

TEST_F(PeerStreamTest, AStalledPeerCostsBoundedMemoryAndItsWritesAreRefused) {
  BatchStreamOptions options = PeerStreamOptions();
  options.max_queued_bytes = 256 * 1024;
  auto stream = Connect(options);
  Answers answers;
  peer_.Stall();
  // 64 MiB offered to a peer that reads nothing: transport buffers fill,
  // then the queue, then writes are refused at once.
  size_t max_queued = 0;
  for (int i = 0; i < 4096; ++i) {
    stream->Send(Write(absl::StrCat("k", i), 16 * 1024),
                 absl::Now() + absl::Seconds(3), answers.Expect());
    max_queued = std::max(max_queued, stream->queued_bytes());
  }
  EXPECT_LE(max_queued, options.max_queued_bytes);
  EXPECT_GT(stream->counters().refused, 0u);
  EXPECT_GT(answers.count(absl::StatusCode::kUnavailable), 0);
  // What was queued or sent gets its deadline.
  for (int i = 0; i < 400 && !answers.AllIn(absl::Milliseconds(10)); ++i) {
    stream->ExpireOverdue(absl::Now());
  }
  ASSERT_TRUE(answers.AllIn(absl::Seconds(1)));
  EXPECT_GT(answers.count(absl::StatusCode::kDeadlineExceeded), 0);
}

TEST_F(PeerStreamTest, ExpiredRequestsSayWhetherTheyWereSent) {
  auto stream = Connect();
  peer_.set_hold_replies(true);
  const absl::Time deadline = absl::Now() + absl::Milliseconds(300);
  Answers answers;
  stream->Send(Write("first"), deadline, answers.Expect());
  ASSERT_EVENTUALLY(peer_.received() == 1, absl::Seconds(20));
  // Behind the one message the window allows: never sent.
  for (int i = 0; i < 10; ++i) {
    stream->Send(Write(absl::StrCat("k", i)), deadline, answers.Expect());
  }
  ASSERT_TRUE(SweepUntilAnswered(*stream, answers, absl::Seconds(10)));
  EXPECT_EQ(answers.count(absl::StatusCode::kDeadlineExceeded), 11);
  // The peer may have acted on the one it got; the caller can tell.
  EXPECT_EQ(answers.sent(), 1);
}

TEST_F(PeerStreamTest, TheFirstRequestAfterThePeerRestartsGetsThrough) {
  auto stream = Connect();
  Answers first;
  stream->Send(Write("a"), Soon(), first.Expect());
  ASSERT_TRUE(first.AllIn(absl::Seconds(20)));
  ASSERT_NO_FATAL_FAILURE(RestartPeer());
  // The old stream broke; the next request waits for a new one, and gets
  // through on it within its deadline.
  for (int i = 0; i < 5; ++i) {
    Answers next;
    stream->Send(Write(absl::StrCat("b", i)), absl::Now() + absl::Seconds(5),
                 next.Expect());
    ASSERT_TRUE(SweepUntilAnswered(*stream, next, absl::Seconds(10)));
    EXPECT_EQ(next.count(absl::StatusCode::kOk), 1) << "request " << i;
  }
  EXPECT_GE(stream->counters().streams, 2u);
}

}  // namespace
}  // namespace quorumkv
