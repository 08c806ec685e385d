// Holds back what batching streams (common/batch_stream.h) and their servers
// (common/batch_stream_server.h) would send from one thread while it works
// through a batch, and sends it in one go when it is done: a reply message
// of k answers makes the k follow-up requests leave as one message, not k.
//
//   {
//     BatchCork cork;            // on this thread, until the scope ends
//     for (auto& r : replies) done(r);  // each may Send() on some stream
//   }                            // every stream touched sends once, here
//
// Corks nest; the outermost one flushes. A deferred flush runs on the same
// thread, after the work, so nothing waits on another thread. Not copyable.
#ifndef QUORUMKV_COMMON_BATCH_CORK_H_
#define QUORUMKV_COMMON_BATCH_CORK_H_

#include <utility>
#include <vector>

namespace quorumkv {

class BatchCork {
 public:
  BatchCork();
  ~BatchCork();
  BatchCork(const BatchCork&) = delete;
  BatchCork& operator=(const BatchCork&) = delete;

  // When a cork is active on this thread, arranges for `flush(object)` to
  // run when the outermost one ends (once per object) and returns true; the
  // object must live until then. Returns false, and does nothing, otherwise.
  static bool Defer(void* object, void (*flush)(void*));

 private:
  BatchCork* const outer_;
  std::vector<std::pair<void*, void (*)(void*)>> deferred_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_BATCH_CORK_H_
