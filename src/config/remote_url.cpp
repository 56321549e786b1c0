#include "config/remote_url.hpp"

#include <cctype>

namespace podcd::config {
namespace {

// The length of a leading "scheme:" (RFC 3986: a letter, then letters, digits, + - .), or 0.
std::size_t SchemeLength(std::string_view url) {
  if (url.empty() || std::isalpha(static_cast<unsigned char>(url[0])) == 0) return 0;
  std::size_t i = 1;
  while (i < url.size() && (std::isalnum(static_cast<unsigned char>(url[i])) != 0 || url[i] == '+' ||
                            url[i] == '-' || url[i] == '.'))
    ++i;
  return url.substr(i).starts_with("://") ? i : 0;
}

}  // namespace

std::string RemoteScheme(std::string_view url) {
  std::string scheme(url.substr(0, SchemeLength(url)));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme;
}

std::string RedactUserinfo(std::string_view url) {
  const std::size_t n = SchemeLength(url);
  if (n == 0) return std::string(url);
  const std::size_t start = n + 3;
  const std::size_t end = url.find_first_of("/?#", start);
  const std::string_view authority =
      url.substr(start, end == std::string_view::npos ? url.npos : end - start);
  const std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + "***" + std::string(url.substr(start + at));
}

Expected<void> CheckRemoteTransport(std::string_view url, bool allow_insecure) {
  const std::string scheme = RemoteScheme(url);
  if (allow_insecure || (scheme != "http" && scheme != "git")) return {};
  return Fail(ErrorCode::kPermissionDenied,
              scheme +
                  ":// remotes are refused: the repository would travel unencrypted and "
                  "unauthenticated, so anyone on the path could change what is deployed (" +
                  RedactUserinfo(url) +
                  "); use https://, ssh:// or file://, or set repo.allow_insecure: true "
                  "(PODCD_REPO_ALLOW_INSECURE=true) to accept that");
}

}  // namespace podcd::config
