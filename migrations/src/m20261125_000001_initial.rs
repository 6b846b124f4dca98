use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    IsAdmin,
    QuotaLock,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Label,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserGroups {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    GroupId,
    UserId,
}

#[derive(DeriveIden)]
enum Pipes {
    Table,
    Id,
    Name,
    OwnerId,
    LatestVersion,
    Category,
    Author,
    Status,
    Description,
    Tags,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PipeVersions {
    Table,
    Id,
    PipeId,
    Version,
    Spec,
    Manifests,
    ContentHash,
    SourcePath,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Shares {
    Table,
    Id,
    PipeId,
    ShareId,
    IsPublic,
    Status,
    Options,
    RequestedBy,
    RequestedAt,
    ReviewedBy,
    ReviewedAt,
    ReviewNote,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    PipeId,
    SubjectKind,
    SubjectId,
    AccessLevel,
    ExpiresAt,
    Extra,
    PermissionId,
    GrantedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Downloads {
    Table,
    Id,
    PipeId,
    UserId,
    Version,
    DownloadedAt,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
    UpdatedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_auto(Users::Id))
                    .col(string_uniq(Users::Username))
                    .col(string(Users::PasswordHash))
                    .col(boolean(Users::IsAdmin).default(false))
                    // Bumped at the start of every share transaction of this owner, so that
                    // concurrent shares of one owner take turns and the quota holds.
                    .col(big_integer(Users::QuotaLock).default(0))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(pk_auto(ApiTokens::Id))
                    .col(integer(ApiTokens::UserId))
                    .col(string(ApiTokens::Label))
                    .col(string_uniq(ApiTokens::TokenHash))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .foreign_key(&mut fk("fk_api_tokens_user", (ApiTokens::Table, ApiTokens::UserId), (Users::Table, Users::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserGroups::Table)
                    .col(pk_auto(UserGroups::Id))
                    .col(string_uniq(UserGroups::Name))
                    .col(timestamp_with_time_zone(UserGroups::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .col(integer(GroupMembers::GroupId))
                    .col(integer(GroupMembers::UserId))
                    .primary_key(Index::create().col(GroupMembers::GroupId).col(GroupMembers::UserId))
                    .foreign_key(&mut fk(
                        "fk_group_members_group",
                        (GroupMembers::Table, GroupMembers::GroupId),
                        (UserGroups::Table, UserGroups::Id),
                    ))
                    .foreign_key(&mut fk("fk_group_members_user", (GroupMembers::Table, GroupMembers::UserId), (Users::Table, Users::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_group_members_user").table(GroupMembers::Table).col(GroupMembers::UserId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Pipes::Table)
                    .col(pk_auto(Pipes::Id))
                    .col(string_uniq(Pipes::Name))
                    .col(integer(Pipes::OwnerId))
                    .col(string(Pipes::LatestVersion))
                    .col(string_null(Pipes::Category))
                    .col(string_null(Pipes::Author))
                    .col(string_null(Pipes::Status))
                    .col(text_null(Pipes::Description))
                    .col(text(Pipes::Tags))
                    .col(timestamp_with_time_zone(Pipes::CreatedAt))
                    .col(timestamp_with_time_zone(Pipes::UpdatedAt))
                    .foreign_key(&mut fk("fk_pipes_owner", (Pipes::Table, Pipes::OwnerId), (Users::Table, Users::Id)))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_pipes_owner", Pipes::OwnerId),
            ("idx_pipes_category", Pipes::Category),
            ("idx_pipes_status", Pipes::Status),
            ("idx_pipes_author", Pipes::Author),
        ] {
            manager.create_index(Index::create().name(name).table(Pipes::Table).col(col).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PipeVersions::Table)
                    .col(pk_auto(PipeVersions::Id))
                    .col(integer(PipeVersions::PipeId))
                    .col(string(PipeVersions::Version))
                    .col(text(PipeVersions::Spec))
                    .col(text(PipeVersions::Manifests))
                    .col(string(PipeVersions::ContentHash))
                    .col(text(PipeVersions::SourcePath))
                    .col(timestamp_with_time_zone(PipeVersions::CreatedAt))
                    .col(timestamp_with_time_zone(PipeVersions::UpdatedAt))
                    .foreign_key(&mut fk("fk_pipe_versions_pipe", (PipeVersions::Table, PipeVersions::PipeId), (Pipes::Table, Pipes::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pipe_versions_pipe_version")
                    .table(PipeVersions::Table)
                    .col(PipeVersions::PipeId)
                    .col(PipeVersions::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Shares::Table)
                    .col(pk_auto(Shares::Id))
                    .col(integer_uniq(Shares::PipeId))
                    .col(string_uniq(Shares::ShareId))
                    .col(boolean(Shares::IsPublic))
                    .col(string(Shares::Status))
                    .col(text(Shares::Options))
                    .col(integer(Shares::RequestedBy))
                    .col(timestamp_with_time_zone(Shares::RequestedAt))
                    .col(integer_null(Shares::ReviewedBy))
                    .col(timestamp_with_time_zone_null(Shares::ReviewedAt))
                    .col(text_null(Shares::ReviewNote))
                    .col(timestamp_with_time_zone(Shares::UpdatedAt))
                    .foreign_key(&mut fk("fk_shares_pipe", (Shares::Table, Shares::PipeId), (Pipes::Table, Pipes::Id)))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("idx_shares_status").table(Shares::Table).col(Shares::Status).to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(Grants::Table)
                    .col(pk_auto(Grants::Id))
                    .col(integer(Grants::PipeId))
                    .col(string(Grants::SubjectKind))
                    .col(integer(Grants::SubjectId))
                    .col(string(Grants::AccessLevel))
                    .col(timestamp_with_time_zone_null(Grants::ExpiresAt))
                    .col(text(Grants::Extra))
                    .col(string(Grants::PermissionId))
                    .col(integer(Grants::GrantedBy))
                    .col(timestamp_with_time_zone(Grants::CreatedAt))
                    .foreign_key(&mut fk("fk_grants_pipe", (Grants::Table, Grants::PipeId), (Pipes::Table, Pipes::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_grants_pipe_subject")
                    .table(Grants::Table)
                    .col(Grants::PipeId)
                    .col(Grants::SubjectKind)
                    .col(Grants::SubjectId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_grants_subject").table(Grants::Table).col(Grants::SubjectKind).col(Grants::SubjectId).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Downloads::Table)
                    .col(pk_auto(Downloads::Id))
                    .col(integer(Downloads::PipeId))
                    .col(integer_null(Downloads::UserId))
                    .col(string(Downloads::Version))
                    .col(timestamp_with_time_zone(Downloads::DownloadedAt))
                    .foreign_key(&mut fk("fk_downloads_pipe", (Downloads::Table, Downloads::PipeId), (Pipes::Table, Pipes::Id)))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("idx_downloads_pipe").table(Downloads::Table).col(Downloads::PipeId).to_owned()).await?;
        manager
            .create_index(Index::create().name("idx_downloads_at").table(Downloads::Table).col(Downloads::DownloadedAt).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(string(Settings::Key).primary_key())
                    .col(string(Settings::Value))
                    .col(timestamp_with_time_zone(Settings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Settings::Table.into_iden(),
            Downloads::Table.into_iden(),
            Grants::Table.into_iden(),
            Shares::Table.into_iden(),
            PipeVersions::Table.into_iden(),
            Pipes::Table.into_iden(),
            GroupMembers::Table.into_iden(),
            UserGroups::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
