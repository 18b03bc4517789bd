"""Request rate limits of the whole project: token buckets in Redis, adaptive to queue load.

Views call `hit()` (or DRF uses `AdaptiveRateThrottle`); `RateLimitHeadersMiddleware`
puts the X-RateLimit-* headers on every answer of a limited request.
"""
