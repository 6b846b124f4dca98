use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A version's spec is the strongest of its manifests, which `manifests` already holds: the
/// `spec` column repeated about half of every version row. It goes; readers take the spec
/// from `manifests`.
#[derive(DeriveIden)]
enum PipeVersions {
    Table,
    Spec,
}

/// The manifest files, strongest first (as the scan ranks them).
const MANIFEST_FILES: [&str; 4] = ["plug.yaml", "plugin.yaml", "glue.yaml", "pipe.yaml"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(PipeVersions::Table).drop_column(PipeVersions::Spec).to_owned()).await
    }

    /// The column again, each row's filled with its strongest manifest's JSON text.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = text(PipeVersions::Spec).default("{}").to_owned();
        manager.alter_table(Table::alter().table(PipeVersions::Table).add_column(column).to_owned()).await?;
        let each = |file: &str| match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => format!("(manifests::json -> '{file}')::text"),
            _ => format!("(manifests -> '$.\"{file}\"')"),
        };
        let strongest: Vec<String> = MANIFEST_FILES.iter().map(|file| each(file)).collect();
        let fill = format!("UPDATE pipe_versions SET spec = COALESCE({}, '{{}}')", strongest.join(", "));
        manager.get_connection().execute_unprepared(&fill).await.map(|_| ())
    }
}
