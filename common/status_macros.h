// Early-return helpers for absl::Status / absl::StatusOr call sites.
#ifndef QUORUMKV_COMMON_STATUS_MACROS_H_
#define QUORUMKV_COMMON_STATUS_MACROS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

// The same status with `context` put in front of its message ("context: msg").
inline absl::Status Prepend(const absl::Status& status,
                            absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(context, ": ", status.message()));
}

}  // namespace quorumkv

#define QKV_CONCAT_INNER(a, b) a##b
#define QKV_CONCAT(a, b) QKV_CONCAT_INNER(a, b)

// Returns the status of `expr` from the calling function if it is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status _qkv_status = (expr);               \
    if (!_qkv_status.ok()) return _qkv_status;         \
  } while (0)

// As RETURN_IF_ERROR, with `context` prepended to the message.
#define RETURN_IF_ERROR_PREPEND(expr, context)                        \
  do {                                                                \
    ::absl::Status _qkv_status = (expr);                              \
    if (!_qkv_status.ok())                                            \
      return ::quorumkv::Prepend(_qkv_status, (context));             \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, StatusOrExpr());` declares x from the value or
// returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  QKV_ASSIGN_OR_RETURN_IMPL(QKV_CONCAT(_qkv_statusor_, __LINE__), lhs, expr)
#define QKV_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // QUORUMKV_COMMON_STATUS_MACROS_H_
