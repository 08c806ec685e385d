// When a partition is hot (docs/architecture.md, "Hot keys"): a pure
// decision over its read rate, sampled at a fixed interval, with
// hysteresis so that a partition does not flap. It turns hot after its rate
// stayed at or above `hot_reads_per_sec` for `samples_to_heat` samples in a
// row, and cools after it stayed below `cool_reads_per_sec` (lower) for
// `samples_to_cool` samples in a row; a rate between the two thresholds
// keeps the state and resets both runs.
#ifndef QUORUMKV_COMMON_HOT_STATE_H_
#define QUORUMKV_COMMON_HOT_STATE_H_

namespace quorumkv {

struct HotPolicy {
  double hot_reads_per_sec = 2000;
  double cool_reads_per_sec = 500;
  int samples_to_heat = 5;
  int samples_to_cool = 30;
};

struct HotState {
  bool hot = false;
  int above = 0;  // samples in a row at or above the hot threshold
  int below = 0;  // samples in a row below the cool threshold
};

// The state after one more sample.
inline HotState NextHotState(HotState state, double reads_per_sec,
                             const HotPolicy& policy) {
  if (reads_per_sec >= policy.hot_reads_per_sec) {
    ++state.above;
    state.below = 0;
  } else if (reads_per_sec < policy.cool_reads_per_sec) {
    ++state.below;
    state.above = 0;
  } else {
    state.above = 0;
    state.below = 0;
  }
  if (!state.hot && state.above >= policy.samples_to_heat) state.hot = true;
  if (state.hot && state.below >= policy.samples_to_cool) state.hot = false;
  return state;
}

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_HOT_STATE_H_
