// The one view of ensemble health: what counts as healthy, waiting for it,
// and both sources (Exhibitor's API and the four-letter words) on a real
// ensemble that is healthy, loses a node, and loses its quorum.
#include <gtest/gtest.h>

#include <deque>

#include "exhibitor/exhibitor_fixture.h"
#include "health/ensemble_health.h"
#include "health_test_support.h"

namespace zktool::testsupport {
namespace {

using namespace std::chrono_literals;
using health::EnsembleHealth;
using health::MemberHealth;
using health::MemberState;
using health::ServerMode;

MemberHealth member(const std::string& host, MemberState state, bool leader = false,
                    std::optional<ServerMode> mode = std::nullopt) {
  MemberHealth m;
  m.host = host;
  m.client_port = 2181;
  m.state = state;
  m.is_leader = leader;
  m.mode = mode;
  return m;
}

EnsembleHealth ensemble_of(std::vector<MemberHealth> members) {
  return EnsembleHealth{"test", std::move(members)};
}

TEST(EnsembleHealth, HealthyMeansAllServingAndOneLeader) {
  auto healthy =
      ensemble_of({member("a", MemberState::kServing, true), member("b", MemberState::kServing),
                   member("c", MemberState::kServing)});
  EXPECT_TRUE(healthy.healthy());
  EXPECT_EQ(healthy.summary(), "3 of 3 members serving, leader a:2181");

  auto no_leader =
      ensemble_of({member("a", MemberState::kServing), member("b", MemberState::kServing),
                   member("c", MemberState::kServing)});
  EXPECT_FALSE(no_leader.healthy());
  EXPECT_EQ(no_leader.summary(), "3 of 3 members serving, no leader");

  auto two_leaders =
      ensemble_of({member("a", MemberState::kServing, true),
                   member("b", MemberState::kServing, true), member("c", MemberState::kServing)});
  EXPECT_FALSE(two_leaders.healthy());
  EXPECT_EQ(two_leaders.summary(), "3 of 3 members serving, 2 leaders (a:2181, b:2181)");

  auto one_down =
      ensemble_of({member("a", MemberState::kServing, true), member("b", MemberState::kDown),
                   member("c", MemberState::kServing)});
  one_down.members[1].detail = "ruok to b:2181: Connection refused";
  EXPECT_FALSE(one_down.healthy());
  EXPECT_EQ(one_down.summary(),
            "2 of 3 members serving, leader a:2181; b:2181 down (ruok to b:2181: Connection "
            "refused)");

  for (MemberState state : {MemberState::kLatent, MemberState::kNotServing}) {
    auto one_not_serving = ensemble_of({member("a", MemberState::kServing, true),
                                        member("b", state), member("c", MemberState::kServing)});
    EXPECT_FALSE(one_not_serving.healthy()) << health::to_string(state);
  }
  EXPECT_FALSE(ensemble_of({}).healthy());
}

TEST(EnsembleHealth, AStandaloneServerIsHealthyOnlyAlone) {
  auto alone = ensemble_of({member("a", MemberState::kServing, true, ServerMode::kStandalone)});
  EXPECT_TRUE(alone.healthy());
  auto among_others =
      ensemble_of({member("a", MemberState::kServing, true, ServerMode::kStandalone),
                   member("b", MemberState::kServing, false, ServerMode::kFollower)});
  EXPECT_FALSE(among_others.healthy());
  EXPECT_NE(among_others.summary().find("a:2181 runs standalone in an ensemble"),
            std::string::npos);
}

TEST(EnsembleHealth, ExhibitorMembersHaveNoPortModeOrZxid) {
  auto state = health::from_exhibitor(
      "http://x/", {{"10.0.0.1", health::ExhibitorCode::kServing, "serving", true},
                    {"10.0.0.2", health::ExhibitorCode::kLatent, "latent", false}});
  ASSERT_EQ(state.members.size(), 2u);
  EXPECT_EQ(state.source, "http://x/");
  EXPECT_EQ(state.members[0].name(), "10.0.0.1");
  EXPECT_EQ(state.members[0].state, MemberState::kServing);
  EXPECT_FALSE(state.members[0].client_port || state.members[0].mode || state.members[0].zxid);
  EXPECT_EQ(state.members[1].state, MemberState::kLatent);
  EXPECT_EQ(state.summary(), "1 of 2 members serving, leader 10.0.0.1; 10.0.0.2 latent");
}

// Hands out prepared probe results in order, repeating the last.
health::HealthProbe scripted(std::deque<Result<EnsembleHealth>> results, int* calls) {
  auto shared = std::make_shared<std::deque<Result<EnsembleHealth>>>(std::move(results));
  return [shared, calls]() -> Result<EnsembleHealth> {
    ++*calls;
    Result<EnsembleHealth> next = shared->front();
    if (shared->size() > 1) shared->pop_front();
    return next;
  };
}

EnsembleHealth healthy_ensemble() {
  return ensemble_of({member("a", MemberState::kServing, true)});
}

EnsembleHealth unhealthy_ensemble() { return ensemble_of({member("a", MemberState::kDown)}); }

TEST(WaitUntilHealthy, ReturnsTheFirstHealthyState) {
  int calls = 0;
  auto probe = scripted(
      {unhealthy_ensemble(), make_error(ErrorKind::Unhealthy, "refused"), healthy_ensemble()},
      &calls);
  std::vector<bool> seen;
  auto state =
      health::wait_until_healthy(probe, std::chrono::steady_clock::now() + 10s, 10ms,
                                 [&](const Result<EnsembleHealth>& r) { seen.push_back(r.ok()); });
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE(state->healthy());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(seen, (std::vector<bool>{true, false, true}));
}

TEST(WaitUntilHealthy, ReportsTheLastStateAtTheDeadline) {
  int calls = 0;
  auto start = std::chrono::steady_clock::now();
  auto state =
      health::wait_until_healthy(scripted({unhealthy_ensemble()}, &calls), start + 300ms, 50ms);
  auto took = elapsed_since(start);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_FALSE(state->healthy());
  EXPECT_EQ(state->summary(), "0 of 1 members serving, no leader; a:2181 down");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 600ms);
  EXPECT_GE(calls, 5);
}

TEST(WaitUntilHealthy, ReportsTheLastProbeErrorAtTheDeadline) {
  int calls = 0;
  auto state = health::wait_until_healthy(
      scripted({unhealthy_ensemble(), make_error(ErrorKind::Unhealthy, "GET u: refused")}, &calls),
      std::chrono::steady_clock::now() + 200ms, 20ms);
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().message, "GET u: refused");
}

TEST(WaitUntilHealthy, StopsAtOnceOnAnErrorThatWaitingCannotFix) {
  int calls = 0;
  auto state =
      health::wait_until_healthy(scripted({make_error(ErrorKind::Usage, "bad URL")}, &calls),
                                 std::chrono::steady_clock::now() + 10s, 10ms);
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().kind, ErrorKind::Usage);
  EXPECT_EQ(calls, 1);
}

class BothSourcesTest : public LiveEnsembleTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(LiveEnsembleTest::SetUp());
    auto fixture = ExhibitorFixture::start(endpoints());
    ASSERT_TRUE(fixture) << fixture.error().message;
    exhibitor_ = std::move(*fixture);
    direct_ = [nodes = endpoints()]() -> Result<EnsembleHealth> {
      return health::probe_direct(nodes, 2s);
    };
    via_exhibitor_ = [url = exhibitor_->status_url()] {
      return health::probe_exhibitor(health::ExhibitorEndpoint(url), 5s);
    };
  }

  EnsembleHealth probe(const health::HealthProbe& source) {
    auto state = source();
    EXPECT_TRUE(state) << state.error().message;
    return state ? *state : EnsembleHealth{};
  }

  std::unique_ptr<ExhibitorFixture> exhibitor_;
  health::HealthProbe direct_;
  health::HealthProbe via_exhibitor_;
};

TEST_F(BothSourcesTest, AHealthyEnsembleLooksTheSameThroughEither) {
  EnsembleHealth direct = probe(direct_);
  EnsembleHealth exhibitor = probe(via_exhibitor_);
  EXPECT_TRUE(direct.healthy()) << direct.summary();
  EXPECT_TRUE(exhibitor.healthy()) << exhibitor.summary();
  EXPECT_EQ(exhibitor.source, exhibitor_->status_url());
  ASSERT_EQ(direct.members.size(), 3u);
  ASSERT_EQ(exhibitor.members.size(), 3u);
  auto leader = ensemble_->leader();
  ASSERT_TRUE(leader) << leader.error().message;
  for (size_t i = 0; i < 3; ++i) {
    const MemberHealth& d = direct.members[i];
    const MemberHealth& e = exhibitor.members[i];
    EXPECT_EQ(d.name(), ensemble_->node(i).client_address());
    EXPECT_EQ(e.name(), d.name());  // the fixture reports host:port as the hostname
    EXPECT_EQ(d.state, MemberState::kServing);
    EXPECT_EQ(e.state, d.state);
    EXPECT_EQ(d.is_leader, i == *leader);
    EXPECT_EQ(e.is_leader, d.is_leader);
    ASSERT_TRUE(d.mode && d.zxid);
    EXPECT_EQ(*d.mode, i == *leader ? ServerMode::kLeader : ServerMode::kFollower);
    EXPECT_FALSE(e.mode || e.zxid || e.client_port);
  }
  EXPECT_EQ(direct.summary(), exhibitor.summary());
}

TEST_F(BothSourcesTest, AStoppedNodeIsDownUntilItRejoins) {
  size_t stopped = follower();
  ASSERT_TRUE(ensemble_->stop_node(stopped));
  for (const health::HealthProbe* source : {&direct_, &via_exhibitor_}) {
    EnsembleHealth state = probe(*source);
    ASSERT_EQ(state.members.size(), 3u);
    EXPECT_FALSE(state.healthy());
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(state.members[i].state, i == stopped ? MemberState::kDown : MemberState::kServing)
          << state.source << ": " << state.summary();
    }
    EXPECT_NE(state.summary().find("2 of 3 members serving"), std::string::npos) << state.summary();
  }
  EnsembleHealth direct = probe(direct_);
  EXPECT_NE(direct.members[stopped].detail.find("Connection refused"), std::string::npos)
      << direct.members[stopped].detail;

  ASSERT_TRUE(ensemble_->start_node(stopped));
  auto start = std::chrono::steady_clock::now();
  auto state = health::wait_until_healthy(via_exhibitor_, start + 60s, 250ms);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE(state->healthy()) << state->summary();
  EXPECT_TRUE(probe(direct_).healthy());
}

TEST_F(BothSourcesTest, AMemberWithoutQuorumIsNotServing) {
  auto leader = ensemble_->leader();
  ASSERT_TRUE(leader) << leader.error().message;
  size_t survivor = follower();
  for (size_t i = 0; i < 3; ++i) {
    if (i != survivor) {
      ASSERT_TRUE(ensemble_->stop_node(i));
    }
  }
  auto survivor_not_serving = [&](const EnsembleHealth& state) {
    return state.members.size() == 3 && state.members[survivor].state == MemberState::kNotServing;
  };
  ASSERT_TRUE(eventually(direct_, survivor_not_serving, 30s)) << probe(direct_).summary();
  for (const health::HealthProbe* source : {&direct_, &via_exhibitor_}) {
    EnsembleHealth state = probe(*source);
    ASSERT_TRUE(survivor_not_serving(state)) << state.summary();
    EXPECT_FALSE(state.healthy());
    EXPECT_FALSE(state.members[survivor].is_leader);
    EXPECT_EQ(state.members[*leader].state, MemberState::kDown);
    EXPECT_EQ(state.summary().rfind("0 of 3 members serving, no leader; ", 0), 0u)
        << state.summary();
  }
}

}  // namespace
}  // namespace zktool::testsupport
