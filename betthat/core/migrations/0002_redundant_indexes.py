"""The outbox's event_type index without its LIKE twin (varchar_pattern_ops), which no query
used and every published event wrote (issue 14)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboxevent',
            name='event_type',
            field=models.CharField(max_length=80),
        ),
        migrations.AddIndex(
            model_name='outboxevent',
            index=models.Index(fields=['event_type'], name='outbox_event_type_idx'),
        ),
    ]
