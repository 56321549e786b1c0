#include "util/metrics.hpp"

#include <catch2/catch.hpp>

using namespace podcd;

TEST_CASE("metrics render in Prometheus text format") {
  metrics::ResetForTest();
  metrics::Describe("podcd_requests_total", "counter", "HTTP requests by route and status.");
  metrics::Add("podcd_requests_total", {{"route", "/health"}, {"code", "200"}});
  metrics::Add("podcd_requests_total", {{"route", "/health"}, {"code", "200"}});
  metrics::Add("podcd_requests_total", {{"route", "trigger"}, {"code", "401"}});
  metrics::Describe("podcd_sync_seconds", "summary", "Repository sync durations.");
  metrics::Observe("podcd_sync_seconds", {}, 0.5);
  metrics::Observe("podcd_sync_seconds", {}, 0.25);
  metrics::Describe("podcd_queue_depth", "gauge", "Queued deployments.");
  metrics::SetCollector("podcd_queue_depth", [] {
    return std::vector<std::pair<metrics::Labels, double>>{{{}, 3}};
  });
  metrics::Set("podcd_label_escape", {{"reason", "a \"b\"\nc"}}, 1);
  const std::string text = metrics::Render();
  CHECK(text.find("# TYPE podcd_requests_total counter\n") != std::string::npos);
  CHECK(text.find("# HELP podcd_requests_total HTTP requests by route and status.\n") != std::string::npos);
  CHECK(text.find("podcd_requests_total{route=\"/health\",code=\"200\"} 2\n") != std::string::npos);
  CHECK(text.find("podcd_requests_total{route=\"trigger\",code=\"401\"} 1\n") != std::string::npos);
  CHECK(text.find("podcd_sync_seconds_sum 0.75\n") != std::string::npos);
  CHECK(text.find("podcd_sync_seconds_count 2\n") != std::string::npos);
  CHECK(text.find("podcd_queue_depth 3\n") != std::string::npos);
  CHECK(text.find("podcd_label_escape{reason=\"a \\\"b\\\"\\nc\"} 1\n") != std::string::npos);
  CHECK(metrics::ProcessRssBytes() > 0);
  metrics::ResetForTest();
}

TEST_CASE("metrics: the value a counter or gauge holds now, by labels") {
  metrics::ResetForTest();
  CHECK_FALSE(metrics::Value("podcd_last_successful_sync_timestamp_seconds").has_value());
  metrics::Set("podcd_last_successful_sync_timestamp_seconds", {}, 1764684000.5);
  CHECK(metrics::Value("podcd_last_successful_sync_timestamp_seconds") == 1764684000.5);
  metrics::Add("podcd_x_total", {{"result", "ok"}}, 2);
  CHECK(metrics::Value("podcd_x_total", {{"result", "ok"}}) == 2);
  CHECK_FALSE(metrics::Value("podcd_x_total", {{"result", "failed"}}).has_value());
  metrics::ResetForTest();
}
