#include "common/call_auth.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/interceptor.h"

namespace quorumkv {
namespace {

constexpr char kAuthorization[] = "authorization";

class TokenSender final : public grpc::experimental::Interceptor {
 public:
  explicit TokenSender(const std::string* header) : header_(header) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({kAuthorization, *header_});
    }
    methods->Proceed();
  }

 private:
  const std::string* const header_;
};

class BearerTokenFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenFactory(const std::string& token)
      : header_(absl::StrCat("Bearer ", token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new TokenSender(&header_);
  }

 private:
  const std::string header_;
};

}  // namespace

absl::Status CallAuthorizer::Check(const grpc::CallbackServerContext& context,
                                   Role needed) const {
  if (tokens_ == nullptr) return absl::OkStatus();
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find(kAuthorization);
  absl::string_view token;
  if (found != metadata.end()) {
    token = BearerToken(absl::string_view(found->second.data(),
                                          found->second.size()));
  }
  return tokens_->Check(token, needed);
}

std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
BearerTokenInterceptors(const std::string& token) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      factories;
  if (!token.empty()) {
    factories.push_back(std::make_unique<BearerTokenFactory>(token));
  }
  return factories;
}

}  // namespace quorumkv
