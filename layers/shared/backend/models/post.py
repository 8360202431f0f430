"""Post item (``PK=POST#<id>, SK=POST``) and its category links (``PK=POST#<id>, SK=CATEGORY#<cid>``).

A published post is also in GSI4 under ``USER#<authorId>#POSTS#PUBLISHED`` (sparse, by publication
time): the public listing of one author's posts. Links implement the many-to-many relation. A link is in GSI2 under ``CATEGORY#<cid>#POSTS`` only
while the post is published (a sparse index), sorted by publication time.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute, VersionAttribute

from backend.models import keys
from backend.models.attributes import IsoDateTimeAttribute
from backend.models.base import TableItem
from backend.models.clock import iso


class PostModel(TableItem, discriminator="Post"):
    id = UnicodeAttribute()
    author_id = UnicodeAttribute(attr_name="authorId")
    title = UnicodeAttribute()
    slug = UnicodeAttribute()
    content = UnicodeAttribute(null=True)
    published = BooleanAttribute()
    published_at = IsoDateTimeAttribute(null=True, attr_name="publishedAt")
    category_ids = ListAttribute(of=UnicodeAttribute, attr_name="categoryIds", default=list)
    created_at = IsoDateTimeAttribute(attr_name="createdAt")
    updated_at = IsoDateTimeAttribute(attr_name="updatedAt")
    version = VersionAttribute()

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.post_pk(self.id), keys.POST_SK
        self.clear_index_keys()
        self.gsi1pk, self.gsi1sk = keys.author_posts(self.author_id), self.id
        if self.published and self.published_at is not None:
            self.gsi2pk = keys.POSTS_PUBLISHED
            self.gsi2sk = keys.published_sort_key(iso(self.published_at), self.id)
            self.gsi4pk = keys.author_published_posts(self.author_id)
            self.gsi4sk = self.gsi2sk
        self.gsi3pk, self.gsi3sk = keys.post_slug_lookup(self.slug), keys.POST_SK


class PostCategoryModel(TableItem, discriminator="PostCategory"):
    post_id = UnicodeAttribute(attr_name="postId")
    category_id = UnicodeAttribute(attr_name="categoryId")
    published_at = IsoDateTimeAttribute(null=True, attr_name="publishedAt")

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.post_pk(self.post_id), keys.category_sk(self.category_id)
        self.clear_index_keys()
        if self.published_at is not None:
            self.gsi2pk = keys.category_posts(self.category_id)
            self.gsi2sk = keys.published_sort_key(iso(self.published_at), self.post_id)
