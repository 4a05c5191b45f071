"""The S3 fixtures (a real S3 API on loopback, a recording proxy, a built site) for every
deploy test."""

from tests.deploy.test_deploy import _aws_env, bucket, proxy, s3_server, site

__all__ = ["_aws_env", "bucket", "proxy", "s3_server", "site"]
