// Rank correlation against hand-worked cases and a textbook example.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

using namespace cgprof::analysis;
using V = std::vector<double>;

TEST(Rank, AverageRanksSplitTies) {
  EXPECT_EQ(average_ranks(V{10, 20, 20, 30}), (V{1, 2.5, 2.5, 4}));
  EXPECT_EQ(average_ranks(V{3, 1, 3, 3}), (V{3, 1, 3, 3}));
  EXPECT_EQ(average_ranks(V{5, 4, 3}), (V{3, 2, 1}));
}

// Wikipedia "Spearman's rank correlation coefficient": IQ vs hours of TV, rho = -29/165.
TEST(Rank, SpearmanTextbookExample) {
  V iq{106, 100, 86, 101, 99, 103, 97, 113, 112, 110};
  V tv{7, 27, 2, 50, 28, 29, 20, 12, 6, 17};
  EXPECT_NEAR(spearman_rho(iq, tv), -29.0 / 165, 1e-12);
}

// y ranks 3,1,2,5,4 against 1..5: 7 concordant, 3 discordant pairs -> tau 0.4;
// Σd² = 8 -> rho = 1 - 6·8/(5·24) = 0.6.
TEST(Rank, NoTiesHandWorked) {
  V x{1, 2, 3, 4, 5}, y{3, 1, 2, 5, 4};
  EXPECT_NEAR(kendall_tau_b(x, y), 0.4, 1e-14);
  EXPECT_NEAR(spearman_rho(x, y), 0.6, 1e-14);
}

// x = 1,2,2,3; y = 1,2,3,3. Pairs: 4 concordant, 0 discordant, one tie in x only, one tie in y
// only; n0 = 6 -> tau_b = 4 / √(5·5) = 0.8. Average ranks x 1,2.5,2.5,4 and y 1,2,3.5,3.5:
// Sxy 3.75, Sxx 4.5, Syy 4.5 -> rho = 5/6.
TEST(Rank, TiesHandWorked) {
  V x{1, 2, 2, 3}, y{1, 2, 3, 3};
  EXPECT_NEAR(kendall_tau_b(x, y), 0.8, 1e-14);
  EXPECT_NEAR(spearman_rho(x, y), 5.0 / 6, 1e-14);
}

// Joint tie in both (pair 1,2): it counts in both tie sums. x = 1,2,2,4; y = 1,3,3,2.
// Pairs: (0,1) C, (0,2) C, (0,3) C, (1,2) tie both, (1,3) D, (2,3) D -> C 3, D 2,
// n1 = n2 = 1 -> tau_b = 1/5.
TEST(Rank, JointTieCountsOnBothSides) {
  V x{1, 2, 2, 4}, y{1, 3, 3, 2};
  EXPECT_NEAR(kendall_tau_b(x, y), 0.2, 1e-14);
}

TEST(Rank, ReversedRankingIsMinusOne) {
  V x{1, 2, 3, 4}, y{40, 30, 20, 10};
  EXPECT_NEAR(kendall_tau_b(x, y), -1, 1e-14);
  EXPECT_NEAR(spearman_rho(x, y), -1, 1e-14);
}

TEST(Rank, AllTiedIsUndefined) {
  V x{1, 2, 3}, y{5, 5, 5};
  EXPECT_TRUE(std::isnan(kendall_tau_b(x, y)));
  EXPECT_TRUE(std::isnan(spearman_rho(x, y)));
}

TEST(Rank, SizeMismatchIsAnError) {
  V x{1, 2, 3}, y{1, 2};
  EXPECT_THROW(kendall_tau_b(x, y), cgprof::Error);
  EXPECT_THROW(spearman_rho(x, y), cgprof::Error);
}

// Hollander & Wolfe (1973), p. 187f., the data of R's ?cor.test example, whose documented
// results are Kendall tau 0.4444444 (T = 26 concordant pairs of 36), Spearman rho 0.6
// (S = Σd² = 48) and Pearson r 0.5711816.
TEST(Rank, HollanderWolfeTextbookExample) {
  V x{44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1};
  V y{2.6, 3.1, 2.5, 5.0, 3.6, 4.0, 5.2, 2.8, 3.8};
  EXPECT_NEAR(kendall_tau_b(x, y), 16.0 / 36, 1e-14);  // (26 - 10) / 36
  EXPECT_NEAR(spearman_rho(x, y), 0.6, 1e-14);         // 1 - 6·48 / (9·80)
  EXPECT_NEAR(pearson(x, y), 0.5711816, 1e-7);
}
