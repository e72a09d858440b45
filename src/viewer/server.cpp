#include "viewer/server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "viewer/replies.h"

namespace gb::viewer {
namespace {

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(dump({{"error", message}}), "application/json");
}

// The message for an error status that httplib itself produced (no body set).
std::string default_message(int status) {
  switch (status) {
    case 400:
      return "malformed request";
    case 404:
      return "no such route; the API is under /api/ (info, run, thumbs, attention, neurons, "
             "neuron_map, lens, ablate, diff)";
    case 413:
      return "request too large";
    case 414:
      return "request URI too long";
    default:
      return cat("HTTP error ", status);
  }
}

ApiRequest api_request(const httplib::Request& req) {
  ApiRequest r{.query = {}, .body = req.body};
  for (const auto& [key, value] : req.params)
    if (!r.query.emplace(key, value).second)
      throw HttpError(400, cat("parameter '", key, "' given more than once"));
  return r;
}

// Runs a Session handler and turns its exceptions into error replies.
void answer(Session& session, Reply (Session::*handler)(const ApiRequest&),
            const httplib::Request& req, httplib::Response& res) {
  try {
    Reply reply = (session.*handler)(api_request(req));
    res.status = reply.status;
    res.set_content(std::move(reply.body), reply.type);
  } catch (const HttpError& e) {
    send_error(res, e.status(), e.what());
  } catch (const UsageError& e) {
    send_error(res, 400, e.what());
  } catch (const std::bad_alloc&) {
    send_error(res, 503, "out of memory");
  } catch (const std::exception& e) {
    send_error(res, 500, e.what());
  }
  res.set_header("Cache-Control", "no-store");
}

}  // namespace

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

Server::Server(Session& session, std::string page, ServerOptions options)
    : session_(session),
      page_(std::move(page)),
      options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()) {
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second viewer
  // bind the same port and take over part of this one's connections.
  http_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http_->set_payload_max_length(options_.max_body);
  http_->set_read_timeout(10, 0);
  http_->set_write_timeout(10, 0);
  add_routes();
}

Server::~Server() = default;

bool Server::host_allowed(const std::string& host_header) const {
  if (!is_loopback(options_.host)) return true;  // the user chose to serve beyond this machine
  const std::string port = ":" + std::to_string(port_);
  for (const char* name : {"127.0.0.1", "localhost", "[::1]"})
    if (host_header == name + port) return true;
  return host_header == options_.host + port;
}

bool Server::check_request(const httplib::Request& req, httplib::Response& res) const {
  const std::string host = req.get_header_value("Host");
  if (!host_allowed(host)) {
    send_error(
        res, 403,
        cat("Host '", host, "' is not this server's address; open http://127.0.0.1:", port_, "/"));
    return false;
  }
  if (req.method == "POST" &&
      !req.get_header_value("Content-Type").starts_with("application/json")) {
    send_error(res, 415, "POST bodies must be JSON (Content-Type: application/json)");
    return false;
  }
  return true;
}

void Server::add_routes() {
  http_->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) send_error(res, res.status, default_message(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                  std::exception_ptr) { send_error(res, 500, "internal error"); });

  http_->Get("/", [this](const httplib::Request& req, httplib::Response& res) {
    if (!check_request(req, res)) return;
    res.set_content(page_, "text/html; charset=utf-8");
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
  });
  for (const Route& route : Session::routes()) {
    const std::string path = cat("/api/", route.name);
    const std::string method = route.method;
    auto handler = route.handler;
    auto serve = [this, handler](const httplib::Request& req, httplib::Response& res) {
      if (check_request(req, res)) answer(session_, handler, req, res);
    };
    auto wrong_method = [method](const httplib::Request&, httplib::Response& res) {
      send_error(res, 405, cat("use ", method, " for this route"));
      res.set_header("Allow", method);
    };
    if (method == "GET") {
      http_->Get(path, serve);
      http_->Post(path, wrong_method);
    } else {
      http_->Post(path, serve);
      http_->Get(path, wrong_method);
    }
  }
}

int Server::bind() {
  const bool any = options_.port == 0;
  const bool ok = any ? (port_ = http_->bind_to_any_port(options_.host)) > 0
                      : http_->bind_to_port(options_.host, options_.port);
  if (!ok)
    fail("cannot listen on ", options_.host, ":", options_.port,
         any ? "" : " (in use, or not an address of this machine; --port 0 picks a free port)");
  if (!any) port_ = options_.port;
  return port_;
}

void Server::serve() {
  if (!http_->listen_after_bind()) fail("the server stopped with an error");
}

void Server::stop() {
  http_->stop();
}

}  // namespace gb::viewer
