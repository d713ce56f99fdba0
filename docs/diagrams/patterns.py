"""Architecture diagram of every pattern, drawn with the `diagrams` package (Graphviz, AWS icons).

    scripts/diagrams.sh            (make diagrams) writes docs/diagrams/<pattern>.png
    python patterns.py OUT_DIR     the same, given the diagrams package and Graphviz's `dot`

One function per pattern; each draws what its Terraform root configuration deploys (solid edges:
records; dashed: failure paths; dotted: optional parts, off by default). The PNGs are committed and
shown at the top of each pattern's README: change a pattern, change its function here, and
regenerate.
"""

import sys
from pathlib import Path

from diagrams import Cluster, Diagram, Edge
from diagrams.aws.analytics import (
    Athena,
    Glue,
    KinesisDataAnalytics,
    KinesisDataFirehose,
    KinesisDataStreams,
)
from diagrams.aws.compute import EC2, Lambda
from diagrams.aws.integration import SNS, SQS, EventbridgeScheduler, StepFunctions
from diagrams.aws.management import Cloudwatch, SystemsManagerParameterStore
from diagrams.aws.network import APIGateway
from diagrams.aws.security import Cognito, SecretsManager
from diagrams.aws.storage import S3
from diagrams.onprem.client import Client, Users

GRAPH = {"pad": "0.3", "nodesep": "0.55", "ranksep": "0.8", "fontsize": "20", "splines": "spline"}
NODE = {"fontsize": "11"}

# Edge styles, one meaning each (see the module's doc comment).
FAILURE = {"style": "dashed", "color": "firebrick"}
OPTIONAL = {"style": "dotted", "color": "gray40"}


def diagram(title, path: Path):
    """A left-to-right diagram written to `path`.png, in the house look."""
    return Diagram(title, filename=str(path), show=False, direction="LR", graph_attr=GRAPH, node_attr=NODE)


def recovery(consumer, failures, stream, archive=True):
    """The optional recovery parts: the redrive workflow (Step Functions running the redrive
    function over the failure queue) and, where the consumer has it, the failed-record archive."""
    with Cluster("recovery (optional)"):
        workflow = StepFunctions("redrive workflow\n(schedule or on demand)")
        if archive:
            bucket = S3("failed-record archive")
            consumer >> Edge(label="failed payloads", **OPTIONAL) >> bucket
    failures >> Edge(**OPTIONAL) >> workflow >> Edge(label="re-read ranges", **OPTIONAL) >> stream


def observability(watched):
    """The CloudWatch alarms and dashboard of a pattern, the SNS topic they notify."""
    with Cluster("observability"):
        alarms = Cloudwatch("alarms + dashboard")
        topic = SNS("alarm topic\n(KMS, TLS only)")
    for node in watched:
        node >> Edge(style="dotted", color="steelblue") >> alarms
    alarms >> topic


def pattern_01(out: Path):
    with diagram("Pattern 1: API Gateway -> Kinesis -> Lambda (Rust), failures to SQS", out / "01-apigw-kds-lambda"):
        clients = Users("clients\nPOST /records")
        idp = Cognito("Cognito user pool\n(or IAM, or API key)")
        api = APIGateway("REST API\n(direct Kinesis integration,\nVTL request template)")
        with Cluster("KMS-encrypted"):
            stream = KinesisDataStreams("data stream\n(168 h retention)")
            consumer = Lambda("kds-consumer (Rust)\nbatch item failures, bisect")
            failures = SQS("failure queue\n(batch ranges)")
        idp - Edge(style="dotted") - api
        clients >> api >> Edge(label="PutRecord(s)") >> stream >> Edge(label="event source mapping") >> consumer
        consumer >> Edge(label="on-failure metadata", **FAILURE) >> failures
        failures >> Edge(label="kstream redrive", **FAILURE) >> stream
        recovery(consumer, failures, stream)
        observability([api, stream, consumer, failures])


def pattern_02(out: Path):
    with diagram("Pattern 2: KPL producer -> Kinesis -> windowed analytics (Rust) -> S3", out / "02-kpl-kds-analytics"):
        with Cluster("producers (KPL-aggregated)"):
            cli = Client("kstream produce")
            schedule = EventbridgeScheduler("schedule")
            producer = Lambda("scheduled-producer\n(Rust)")
            host = EC2("producer host\n(optional)")
        with Cluster("KMS-encrypted"):
            stream = KinesisDataStreams("data stream")
            analytics = Lambda("stream-analytics (Rust)\ntumbling window")
            failures = SQS("failure queue")
            bucket = S3("bucket\nfiltered/ + aggregates/")
        flink = KinesisDataAnalytics("Managed Flink\n(the same SQL, optional)")
        tables = Glue("Glue tables\n(partition projection)")
        athena = Athena("Athena")
        schedule >> producer
        for p in (cli, producer):
            p >> stream
        host >> Edge(**OPTIONAL) >> stream
        stream >> Edge(label="event source mapping") >> analytics >> bucket
        stream >> Edge(**OPTIONAL) >> flink >> Edge(**OPTIONAL) >> bucket
        analytics >> Edge(label="on-failure metadata", **FAILURE) >> failures
        bucket >> tables >> athena
        recovery(analytics, failures, stream, archive=False)
        observability([stream, analytics, failures])


def pattern_03(out: Path):
    with diagram("Pattern 3: Kinesis -> Firehose (Rust transform) -> S3", out / "03-kds-firehose-s3"):
        producers = Client("producers")
        with Cluster("KMS-encrypted"):
            stream = KinesisDataStreams("data stream")
            firehose = KinesisDataFirehose("Firehose\n(dynamic partitioning,\nGZIP)")
            transform = Lambda("firehose-transform (Rust)\nHandlebars templates")
            bucket = S3("bucket\nyear=/month=/day=/hour=")
            errors = S3("error output\n(with the reason)")
        tables = Glue("Glue table\n(partition projection)")
        athena = Athena("Athena")
        producers >> stream >> firehose
        firehose >> Edge(label="records in batches") >> transform
        transform >> Edge(label="Ok / Dropped / ProcessingFailed") >> firehose
        firehose >> bucket >> tables >> athena
        firehose >> Edge(label="failed records", **FAILURE) >> errors
        observability([stream, firehose, transform])


def pattern_04(out: Path):
    with diagram("Pattern 4: Kinesis -> enrichment through an API Gateway fare API (Rust) -> S3", out / "04-kds-enrichment-apigw"):
        replay = Client("kstream replay\n(trips by event time)")
        with Cluster("KMS-encrypted"):
            stream = KinesisDataStreams("data stream")
            consumer = Lambda("enrichment-consumer (Rust)\nsamples 1 in 20")
            failures = SQS("failure queue")
            bucket = S3("bucket\nrows by pickup date/hour")
        with Cluster("fare API"):
            key = SystemsManagerParameterStore("API key\n(SSM SecureString)")
            secret = SecretsManager("or Secrets Manager")
            api = APIGateway("REST API\nAWS_IAM + API key,\nusage plan")
            fare = Lambda("fare-api (Rust)")
        replay >> stream >> Edge(label="event source mapping") >> consumer
        consumer >> Edge(label="GET /predictFare\n(SigV4, x-api-key)") >> api >> fare
        key >> Edge(style="dotted") >> consumer
        secret >> Edge(**OPTIONAL) >> consumer
        consumer >> bucket
        consumer >> Edge(label="on-failure metadata", **FAILURE) >> failures
        recovery(consumer, failures, stream)
        observability([stream, consumer, api, failures])


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
    out.mkdir(parents=True, exist_ok=True)
    for draw in (pattern_01, pattern_02, pattern_03, pattern_04):
        draw(out)


if __name__ == "__main__":
    main()
