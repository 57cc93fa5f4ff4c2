"""The event's own attempt count and error went unused once failures were kept per
subscriber (``OutboxDelivery``, 0003)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_outbox_deliveries")]

    operations = [
        migrations.RemoveField(model_name="outboxevent", name="attempts"),
        migrations.RemoveField(model_name="outboxevent", name="last_error"),
    ]
