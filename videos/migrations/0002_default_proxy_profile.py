"""The original system's proxy as the default encoding profile: 480p, 10 fps, H.264 + AAC."""

from django.db import migrations


def create_default_profile(apps, schema_editor):
    EncodingProfile = apps.get_model("videos", "EncodingProfile")
    if EncodingProfile.objects.filter(is_default=True).exists():
        return
    EncodingProfile.objects.update_or_create(
        slug="proxy-480p",
        defaults={
            "name": "Proxy 480p 10 fps",
            "description": "The original system's proxy: 480 lines, 10 fps, H.264 "
            "(yuv420p, x264 veryfast, CRF 23) + AAC 128 kbit/s stereo, MP4 with "
            "+faststart; a keyframe every 2 s.",
            "height": 480,
            "fps": 10,
            "preset": "veryfast",
            "crf": 23,
            "keyframe_interval_s": 2.0,
            "audio_bitrate": 128_000,
            "max_audio_channels": 2,
            "is_default": True,
            "is_auto": True,
            "is_active": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("videos", "0001_initial")]

    operations = [
        migrations.RunPython(create_default_profile, migrations.RunPython.noop),
    ]
