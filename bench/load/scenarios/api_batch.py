"""A batch of instances (BATCH_SIZES["api_batch"]) per call to POST /api/predict; every
answer checked against predict()."""

from bench.load.scenarios import BATCH_SIZES
from bench.load.scenarios.api_single import ApiUser
from bench.load.scenarios.steps import Steps  # noqa: F401 - Locust steps through the levels with it


class ApiBatchUser(ApiUser):
    batch_size = BATCH_SIZES["api_batch"]


del ApiUser  # Locust runs every User class it finds in a locustfile: only the batch one here
