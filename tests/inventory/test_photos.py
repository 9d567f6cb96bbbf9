import io

from PIL import Image

from inventory.tables import Photo
from tests.conftest import csrf, login


def _image(fmt="PNG", size=(300, 200), exif=False) -> bytes:
    image = Image.new("RGB", size, "#1f5f8b")
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "Secret Camera Maker"
        image.save(out, format=fmt, exif=data)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


async def _setup(client, create_user, owner_org, create_facility, create_resource):
    org = await owner_org()
    resource = await create_resource(await create_facility(org))
    await create_user("owner_staff", org=org, email="staff@metaal.be")
    await login(client, "staff@metaal.be")
    return resource, await csrf(client, "/inventory/")


async def test_a_photo_is_stored_and_served_with_its_type(client, create_user, owner_org, create_facility,
                                                          create_resource):
    resource, token = await _setup(client, create_user, owner_org, create_facility, create_resource)
    response = await client.post(f"/inventory/resources/{resource.id}/photos", data={"_csrf_token": token},
                                 files={"photo": ("werkplaats.png", _image(), "image/png")})
    assert "De foto is toegevoegd." in response.text
    photo = await Photo.objects().first()
    served = await client.get(f"/photos/{photo.id}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (300, 200)


async def test_the_type_is_checked_by_content_not_by_name(client, create_user, owner_org, create_facility,
                                                          create_resource):
    resource, token = await _setup(client, create_user, owner_org, create_facility, create_resource)
    for name, content in (("foto.jpg", b"<html><script>alert(1)</script></html>"),
                          ("foto.png", b"GIF89a not really"), ("leeg.png", b"")):
        response = await client.post(f"/inventory/resources/{resource.id}/photos", data={"_csrf_token": token},
                                     files={"photo": (name, content, "image/jpeg")})
        assert response.status_code == 200  # back to the form, with the reason
        assert ("geen afbeelding die Werkbank kan tonen" in response.text
                or "Kies een foto om op te laden." in response.text)
    # A real JPEG sent under a .png name and the wrong type is accepted as what it is.
    await client.post(f"/inventory/resources/{resource.id}/photos", data={"_csrf_token": token},
                      files={"photo": ("foto.png", _image("JPEG"), "image/png")})
    assert [p.content_type for p in await Photo.objects()] == ["image/jpeg"]


async def test_large_photos_are_refused_and_metadata_is_stripped(client, create_user, owner_org, create_facility,
                                                                 create_resource):
    resource, token = await _setup(client, create_user, owner_org, create_facility, create_resource)
    huge = b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024 + 1)
    response = await client.post(f"/inventory/resources/{resource.id}/photos", data={"_csrf_token": token},
                                 files={"photo": ("groot.jpg", huge, "image/jpeg")})
    assert "hoogstens 5 MB" in response.text
    await client.post(f"/inventory/resources/{resource.id}/photos", data={"_csrf_token": token},
                      files={"photo": ("exif.jpg", _image("JPEG", (3000, 1500), exif=True), "image/jpeg")})
    photo = await Photo.objects().first()
    stored = Image.open(io.BytesIO(photo.content))
    assert max(stored.size) == 2000  # scaled down
    assert 0x010F not in stored.getexif()


async def test_another_owner_cannot_add_or_remove_photos(client, create_user, owner_org, create_facility,
                                                         create_resource):
    other = await owner_org(slug="bouw", name="Bouw")
    theirs = await create_resource(await create_facility(other))
    _mine, token = await _setup(client, create_user, owner_org, create_facility, create_resource)
    response = await client.post(f"/inventory/resources/{theirs.id}/photos", data={"_csrf_token": token},
                                 files={"photo": ("a.png", _image(), "image/png")})
    assert response.status_code == 403
    assert await Photo.count() == 0


async def test_a_photo_of_too_many_pixels_is_refused_before_it_is_decoded(client, create_user, owner_org,
                                                                           create_facility, create_resource):
    resource, token = await _setup(client, create_user, owner_org, create_facility, create_resource)
    # 40 megapixels of one colour compress to a small PNG (the probe's 39.7 MP file weighed little)
    response = await client.post(f"/inventory/resources/{resource.id}/photos", data={"_csrf_token": token},
                                 files={"photo": ("groot.png", _image("PNG", (8000, 5000)), "image/png")})
    assert "hoogstens 25 megapixels" in response.text
    assert await Photo.count() == 0
    response = await client.post(f"/inventory/resources/{resource.id}/photos", data={"_csrf_token": token},
                                 files={"photo": ("net.png", _image("PNG", (5000, 5000)), "image/png")})
    assert "De foto is toegevoegd." in response.text
