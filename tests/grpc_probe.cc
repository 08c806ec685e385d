// grpc_probe HOST:PORT: what a grpcurl-style tool learns from a QuorumKV
// server with nothing but its address. Prints
//   health: SERVING                      (grpc.health.v1.Health/Check)
//   service: NAME                        (each service reflection lists)
//   method: quorumkv.KvService/Put       (each method of our services, from
//                                         the descriptors reflection sends)
// Exits 0, or 1 with one line naming what failed. Used by the system test.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "proto/health.grpc.pb.h"
#include "tests/reflection_client.grpc.pb.h"

namespace {

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

int Fail(const std::string& what) {
  std::fprintf(stderr, "grpc_probe: %s\n", what.c_str());
  return 1;
}

std::chrono::system_clock::time_point In(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage: grpc_probe HOST:PORT");
  auto channel = grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials());

  grpc::ClientContext health_context;
  health_context.set_deadline(In(5));
  grpc::health::v1::HealthCheckResponse health;
  grpc::Status status = grpc::health::v1::Health::NewStub(channel)->Check(
      &health_context, {}, &health);
  if (!status.ok()) return Fail("health check: " + status.error_message());
  std::printf("health: %s\n",
              grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                  health.status())
                  .c_str());

  grpc::ClientContext context;
  context.set_deadline(In(10));
  auto stream = ServerReflection::NewStub(channel)->ServerReflectionInfo(&context);
  ServerReflectionRequest list;
  list.set_list_services("");
  ServerReflectionResponse answer;
  if (!stream->Write(list) || !stream->Read(&answer)) {
    return Fail("reflection: " + stream->Finish().error_message());
  }
  if (answer.has_error_response()) {
    return Fail("reflection: " + answer.error_response().error_message());
  }
  std::vector<std::string> ours;
  for (const auto& service : answer.list_services_response().service()) {
    std::printf("service: %s\n", service.name().c_str());
    if (service.name().rfind("quorumkv.", 0) == 0) ours.push_back(service.name());
  }
  for (const std::string& name : ours) {
    ServerReflectionRequest file;
    file.set_file_containing_symbol(name);
    if (!stream->Write(file) || !stream->Read(&answer)) {
      return Fail("reflection of " + name + ": " + stream->Finish().error_message());
    }
    if (answer.has_error_response()) {
      return Fail("reflection of " + name + ": " +
                  answer.error_response().error_message());
    }
    for (const std::string& bytes :
         answer.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto descriptor;
      if (!descriptor.ParseFromString(bytes)) {
        return Fail("reflection of " + name + ": bad file descriptor");
      }
      for (const auto& service : descriptor.service()) {
        if (descriptor.package() + "." + service.name() != name) continue;
        for (const auto& method : service.method()) {
          std::printf("method: %s/%s\n", name.c_str(), method.name().c_str());
        }
      }
    }
  }
  stream->WritesDone();
  status = stream->Finish();
  if (!status.ok()) return Fail("reflection: " + status.error_message());
  return 0;
}
