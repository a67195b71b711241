"""100 instances per call to POST /api/predict; every answer checked against predict()."""

from bench.scenarios.api_single import ApiUser


class ApiBatchUser(ApiUser):
    batch_size = 100


del ApiUser  # Locust runs every User class it finds in a locustfile: only the batch one here
