"""Shared presets a fresh installation starts with; staff edit them in the admin.

The values are written here, not imported, so this migration does the same
thing whenever it runs. Ranges and rule keys: photos.presets.
"""

from django.db import migrations

DEFAULT_PRESETS = [
    {
        "name": "Standard",
        "description": "A light lift for any photo no other preset claims.",
        "adjustments": {"contrast": 10, "vibrance": 10, "sharpening": 25},
        "rules": [{"weight": 0}],
    },
    {
        "name": "Portrait",
        "description": "Soft contrast, warm skin, gentle highlights.",
        "adjustments": {
            "exposure": 0.15,
            "contrast": -10,
            "highlights": -20,
            "shadows": 15,
            "saturation": -5,
            "vibrance": 10,
            "temperature": 8,
            "sharpening": 20,
            "vignette": -10,
        },
        "rules": [{"labels_any": ["portrait"], "weight": 10}],
    },
    {
        "name": "Group",
        "description": "Faces in the shade opened up, natural colour.",
        "adjustments": {
            "exposure": 0.1,
            "highlights": -15,
            "shadows": 20,
            "vibrance": 10,
            "sharpening": 30,
        },
        "rules": [{"labels_any": ["group"], "weight": 12}],
    },
    {
        "name": "Landscape",
        "description": "Deep skies and crisp detail.",
        "adjustments": {
            "contrast": 20,
            "highlights": -30,
            "shadows": 20,
            "saturation": 10,
            "vibrance": 25,
            "sharpening": 50,
            "vignette": -15,
        },
        "rules": [{"labels_all": ["landscape"], "weight": 10}],
    },
    {
        "name": "Backlit",
        "description": "Shadows lifted and highlights held for subjects against the light.",
        "adjustments": {
            "exposure": 0.3,
            "contrast": -15,
            "highlights": -60,
            "shadows": 60,
            "vibrance": 10,
        },
        "rules": [{"labels_any": ["backlit"], "weight": 15}],
    },
    {
        "name": "Indoor",
        "description": "Warmer light and opened shadows for rooms.",
        "adjustments": {
            "exposure": 0.2,
            "shadows": 15,
            "vibrance": 10,
            "temperature": 15,
            "tint": 3,
        },
        "rules": [{"labels_any": ["indoor"], "weight": 5}],
    },
    {
        "name": "Night",
        "description": "Brighter, cooler and less saturated, with little sharpening (noise).",
        "adjustments": {
            "exposure": 0.5,
            "contrast": 10,
            "highlights": -20,
            "shadows": 30,
            "saturation": -10,
            "temperature": -10,
            "sharpening": 10,
        },
        "rules": [{"labels_any": ["night"], "weight": 20}],
    },
    {
        "name": "Monochrome",
        "description": "Black and white with punch.",
        "adjustments": {
            "contrast": 25,
            "saturation": -100,
            "sharpening": 40,
            "vignette": -20,
        },
        "rules": [{"labels_any": ["monochrome"], "weight": 25}],
    },
]


def create_presets(apps, schema_editor):
    Preset = apps.get_model("photos", "Preset")
    for preset in DEFAULT_PRESETS:
        Preset.objects.get_or_create(
            owner=None,
            name=preset["name"],
            defaults={
                "description": preset["description"],
                "adjustments": preset["adjustments"],
                "rules": preset["rules"],
            },
        )


def delete_presets(apps, schema_editor):
    Preset = apps.get_model("photos", "Preset")
    Preset.objects.filter(
        owner=None, name__in=[preset["name"] for preset in DEFAULT_PRESETS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("photos", "0001_initial")]

    operations = [migrations.RunPython(create_presets, delete_presets)]
