// The `notify:` list and the checks of notice and forge URLs (config.cpp's loader calls these).
// Internal to podcd_config.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace podcd::config {

// Reports one error: where (file:line:col), the key path ("notify[1].on[0]"), the message.
using AddError = std::function<void(std::string where, std::string key, std::string message)>;

// The targets of a `notify:` sequence, every error reported (a target with errors is left out).
std::vector<Config::NotifyTarget> ReadNotify(const YAML::Node& node, const std::string& file,
                                             const AddError& add);

// nullopt when `url` may carry notices or statuses: http(s) with a host, https unless the host
// is loopback (or `allow_insecure`); otherwise what is wrong, without quoting the URL's path or
// query (a Slack or Discord URL holds its token there).
std::optional<std::string> CheckNotifyUrl(std::string_view url, bool allow_insecure);

// What of the notify and forge settings the log mask must hide: secrets and tokens, userinfo,
// and the long path-and-query of a target URL (the token of a Slack, Discord or ntfy URL).
std::vector<std::string> NotifySecrets(const Config& config);

}  // namespace podcd::config
