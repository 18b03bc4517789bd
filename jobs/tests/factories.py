import factory

from jobs.models import ProcessingJob


class ProcessingJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessingJob

    job_type = "jobs.diagnostic"
    queue = "default"
    priority = 5
    params = factory.LazyFunction(dict)
