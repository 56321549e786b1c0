// `podcd upload STACK FILE [--wait]`: an image archive (`podman save`) sent to a running
// daemon's POST /upload (docs/upload.md), streamed from the file, never read whole; with
// --wait, GET /status/<stack>/<deployment> is polled until the deployment ends.
#include <rapidjson/document.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/random.hpp"
#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "curl/curl.hpp"
#include "util/strings.hpp"

namespace podcd::cli {
namespace {

constexpr const char* kUsage =
    "usage: podcd upload STACK FILE [--wait] [--timeout SECONDS] [--server URL] [--token-file F]\n"
    "  FILE              an image archive as `podman save` writes it (docker-archive or\n"
    "                    oci-archive, gzip allowed) tagged with an image a service of STACK uses\n"
    "  --wait            wait until the deployment ends; exit 1 when it failed\n"
    "  --timeout S       how long --wait waits (default 3600)\n"
    "  --server URL      the daemon (default $PODCD_SERVER, else http://127.0.0.1:8080)\n"
    "  --token-file F    file holding a deploy-scope API token (default $PODCD_TOKEN,\n"
    "                    then $PODCD_API_TOKEN)\n";

std::string Str(const rapidjson::Document& d, const char* key) {
  if (!d.IsObject()) return {};
  auto it = d.FindMember(key);
  if (it == d.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// The multipart body: the project field, then the file's bytes as they are read.
class Body {
 public:
  Body(const std::string& boundary, const std::string& stack, std::FILE* file, std::uint64_t size)
      : file_(file),
        head_("--" + boundary + "\r\nContent-Disposition: form-data; name=\"project\"\r\n\r\n" + stack +
              "\r\n--" + boundary +
              "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"image.tar\"\r\n"
              "Content-Type: application/x-tar\r\n\r\n"),
        tail_("\r\n--" + boundary + "--\r\n"),
        size_(head_.size() + size + tail_.size()) {}
  [[nodiscard]] std::uint64_t Size() const { return size_; }
  long Read(char* out, std::size_t max) {
    std::size_t n = 0;
    if (at_ < head_.size()) n = Copy(head_, out, max);
    if (n == 0 && !file_done_) {
      n = std::fread(out, 1, max, file_);
      if (n == 0) {
        if (std::ferror(file_) != 0) return -1;
        file_done_ = true;
      }
    }
    if (n == 0 && file_done_) n = Copy(tail_, out, max, head_.size());
    return static_cast<long>(n);
  }

 private:
  std::size_t Copy(const std::string& part, char* out, std::size_t max, std::size_t offset = 0) {
    const std::size_t from = at_ - offset;
    if (from >= part.size()) return 0;
    const std::size_t n = std::min(max, part.size() - from);
    part.copy(out, n, from);
    at_ += n;
    return n;
  }
  std::FILE* file_;
  const std::string head_;
  const std::string tail_;
  const std::uint64_t size_;
  std::size_t at_ = 0;  // of head_, then of tail_ (counted past head_)
  bool file_done_ = false;
};

int Wait(const std::string& server, const std::string& token, const std::string& stack, const std::string& id,
         int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::string last;
  for (;;) {
    auto r = ApiCall("GET", server + "/status/" + stack + "/" + id, token);
    if (r && r->status == 200) {
      rapidjson::Document d;
      d.Parse(r->body.data(), r->body.size());
      const std::string status = Str(d, "status");
      if (status != last) std::printf("%s\n", status.c_str());
      std::fflush(stdout);
      last = status;
      if (status == "ok") return kExitOk;
      if (status != "await" && status != "active") {
        const std::string reason = Str(d, "reason");
        if (!reason.empty()) std::fprintf(stderr, "podcd upload: %s\n", reason.c_str());
        return kExitFailure;
      }
    } else if (!r) {
      std::fprintf(stderr, "podcd upload: %s (retrying)\n", r.error().What().c_str());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "podcd upload: deployment %s did not end within %d s\n", id.c_str(), timeout_s);
      return kExitFailure;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

struct UploadArgs {
  std::string server;
  std::string token_file;
  std::string timeout = "3600";
  bool wait = false;
  std::vector<std::string> positional;
};

std::optional<UploadArgs> ParseUploadArgs(const Args& args) {
  UploadArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool ok = true;
    if (a == "--wait")
      out.wait = true;
    else if (a == "--server" || a.starts_with("--server="))
      ok = TakeValue(args, i, "--server", out.server);
    else if (a == "--token-file" || a.starts_with("--token-file="))
      ok = TakeValue(args, i, "--token-file", out.token_file);
    else if (a == "--timeout" || a.starts_with("--timeout="))
      ok = TakeValue(args, i, "--timeout", out.timeout);
    else if (a.starts_with("-"))
      ok = false;
    else
      out.positional.push_back(a);
    if (!ok) {
      std::fprintf(stderr, "podcd upload: bad option \"%s\"\n%s", a.c_str(), kUsage);
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

int Upload(const GlobalOptions& /*g*/, const Args& args) {
  auto parsed = ParseUploadArgs(args);
  if (!parsed) return kExitUsage;
  const auto& [server, token_file, timeout, wait, positional] = *parsed;
  auto timeout_s = ParseInt(timeout);
  if (positional.size() != 2 || !timeout_s || *timeout_s < 1) {
    std::fprintf(stderr, "%s", kUsage);
    return kExitUsage;
  }
  const std::string& stack = positional[0];
  const std::string& path = positional[1];
  if (!IsValidStackName(stack)) {
    std::fprintf(stderr, "podcd upload: \"%s\" is not a valid stack name\n", stack.c_str());
    return kExitUsage;
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(ec ? nullptr : std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    std::fprintf(stderr, "podcd upload: cannot read %s%s\n", path.c_str(),
                 ec ? (": " + ec.message()).c_str() : "");
    return kExitFailure;
  }
  auto token = ApiToken(token_file, "upload");
  if (!token) return kExitFailure;
  const std::string url = ServerUrl(server);
  auto boundary = auth::RandomHex(16);
  if (!boundary) {
    std::fprintf(stderr, "podcd upload: %s\n", boundary.error().What().c_str());
    return kExitFailure;
  }
  Body body("podcd-" + *boundary, stack, file.get(), size);
  curl::CurlOptions options;
  options.base_url.clear();
  options.peer = "podcd";
  curl::Curl client(std::move(options));
  std::vector<std::string> headers = {"Content-Type: multipart/form-data; boundary=podcd-" + *boundary};
  if (!token->empty()) headers.push_back("Authorization: Bearer " + *token);
  curl::Curl::BodySource source{body.Size(),
                                [&body](char* out, std::size_t max) { return body.Read(out, max); }};
  // The daemon answers once the archive is loaded: a large one takes minutes.
  auto r = client.Stream("POST", url + "/upload", source, headers, std::chrono::hours(1));
  if (!r) {
    std::fprintf(stderr, "podcd upload: %s\n", r.error().What().c_str());
    return kExitFailure;
  }
  rapidjson::Document d;
  d.Parse(r->body.data(), r->body.size());
  if (r->status != 202) {
    const std::string error = Str(d, "error");
    std::fprintf(stderr, "podcd upload: refused (%ld): %s\n", r->status,
                 error.empty() ? r->body.substr(0, 300).c_str() : error.c_str());
    return kExitFailure;
  }
  const std::string id = Str(d, "deployment");
  std::printf("deployment %s: %s\n", id.c_str(), Str(d, "status").c_str());
  std::fflush(stdout);
  if (!wait) return kExitOk;
  return Wait(url, *token, stack, id, static_cast<int>(*timeout_s));
}

}  // namespace podcd::cli
