#include "doors/resp/glob.h"

#include <vector>

namespace quorumkv {
namespace {

// Whether `c` is in the set at pattern[i] (just after '['); moves `i` past
// the closing ']' (or to the end when there is none, as Redis reads it).
bool InSet(absl::string_view pattern, size_t& i, unsigned char c) {
  bool negate = false;
  if (i < pattern.size() && pattern[i] == '^') {
    negate = true;
    ++i;
  }
  bool found = false;
  while (i < pattern.size() && pattern[i] != ']') {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      if (static_cast<unsigned char>(pattern[i + 1]) == c) found = true;
      i += 2;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
      unsigned char lo = pattern[i], hi = pattern[i + 2];
      if (lo > hi) std::swap(lo, hi);
      if (c >= lo && c <= hi) found = true;
      i += 3;
    } else {
      if (static_cast<unsigned char>(pattern[i]) == c) found = true;
      ++i;
    }
  }
  if (i < pattern.size()) ++i;  // the ']'
  return negate ? !found : found;
}

}  // namespace

bool GlobMatch(absl::string_view pattern, absl::string_view text) {
  // Iterative, with one backtrack point for the last '*': linear enough
  // for keys, and no recursion a hostile pattern could deepen.
  size_t p = 0, t = 0;
  size_t star = absl::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star = p++;
        star_text = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        size_t i = p + 1;
        if (InSet(pattern, i, static_cast<unsigned char>(text[t]))) {
          p = i;
          ++t;
          continue;
        }
      } else if (pc == '\\' && p + 1 < pattern.size()) {
        if (pattern[p + 1] == text[t]) {
          p += 2;
          ++t;
          continue;
        }
      } else if (pc == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star == absl::string_view::npos) return false;
    p = star + 1;
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string GlobLiteralPrefix(absl::string_view pattern) {
  std::string prefix;
  for (char c : pattern) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') break;
    prefix.push_back(c);
  }
  return prefix;
}

}  // namespace quorumkv
