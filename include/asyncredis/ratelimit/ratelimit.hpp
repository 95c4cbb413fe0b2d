// Rate limiting: RateLimiter (Redis), LocalRateLimiter (in process), HTTP header helpers.
#pragma once

#include "asyncredis/ratelimit/headers.hpp"
#include "asyncredis/ratelimit/local_rate_limiter.hpp"
#include "asyncredis/ratelimit/rate_limiter.hpp"
#include "asyncredis/ratelimit/types.hpp"
