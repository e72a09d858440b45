// The viewer's HTTP server (cpp-httplib): the page at /, the Session's API under /api/, nothing
// else. Request paths never name files; bodies are limited in size; every error is JSON
// {"error": "..."} with its status; a client that goes away mid-request costs only that request.
//
// Listening on a loopback address (the default), it answers only requests whose Host header
// names that address or localhost (a defence against DNS rebinding), and POSTs only with a JSON
// content type (no cross-site form posts).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "viewer/session.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace gb::viewer {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                        // 0: any free port
  size_t max_body = size_t(64) << 10;  // bytes of a request body
};

class Server {
 public:
  Server(Session& session, std::string page, ServerOptions options);
  ~Server();

  // Binds the socket; returns the port. Throws gb::Error when the address cannot be bound.
  int bind();
  // Serves until stop() (from another thread) or the process ends.
  void serve();
  void stop();

 private:
  void add_routes();
  bool host_allowed(const std::string& host_header) const;
  // Host and content-type checks; false (and an error reply) when the request fails them.
  bool check_request(const httplib::Request& req, httplib::Response& res) const;

  Session& session_;
  std::string page_;
  ServerOptions options_;
  int port_ = 0;
  std::unique_ptr<httplib::Server> http_;
};

// Whether `host` is a loopback address or name (127.x.x.x, ::1, localhost).
bool is_loopback(const std::string& host);

}  // namespace gb::viewer
