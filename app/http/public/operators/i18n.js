// The operator page's strings, one table per language (zh-TW by default, English one click away). The choice is
// shared with the office view under localStorage "netzero.lang" and sets <html lang>. Whole sentences with
// {placeholders}, never fragments glued together.
/* global document, localStorage */

export const LANG_KEY = 'netzero.lang';
export const LANGS = ['zh-TW', 'en'];

const STRINGS = {
  'zh-TW': {
    title: '設備營運者 — 高雄淨零電表',
    heading: '設備營運者',
    switch_lang: 'English',
    login_heading: '登入',
    login_as_operator: '營運者',
    login_as_admin: '管理者',
    login_id: '營運者代號',
    login_secret: '營運者密鑰',
    login_token: '管理者權杖',
    login_submit: '登入',
    login_failed: '登入失敗：{reason}',
    logout: '登出',
    who_admin: '管理者（所有場址）',
    who_operator: '{name}（{id}）· 場址：{sites}',
    session_until: '登入有效至 {time}',
    filter_site: '場址',
    filter_kind: '種類',
    filter_status: '狀態',
    filter_all: '全部',
    devices_heading: '我的設備',
    devices_count: '共 {total} 台，顯示 {from}–{to}',
    devices_none: '沒有符合的設備。',
    prev_page: '上一頁',
    next_page: '下一頁',
    col_device: '設備',
    col_kind: '種類',
    col_site: '場址',
    col_programme: '計畫',
    col_status: '狀態',
    col_last_reading: '最新讀值',
    col_last_seen: '最後收到',
    col_counts: '24 小時 接受／拒絕／警告',
    col_review: '待審',
    counts_since: '自 {time} 起計',
    never: '尚無',
    refreshing: '每 {s} 秒自動更新',
    refresh_failed: '更新失敗：{reason}；稍後重試',
    kind_smart_meter: '智慧電表',
    kind_pv_inverter: '太陽光電變流器',
    kind_biogas: '沼氣',
    kind_ev_charger: '電動車充電樁',
    status_online: '連線中',
    status_offline: '離線',
    status_unknown: '未知',
    status_disabled: '已停用',
    sector_industry: '工業',
    sector_residential_commercial: '住商',
    sector_transport: '運輸',
    sector_environment: '環境',
    sector_agriculture: '農業',
    sector_forestry: '林業',
    detail_heading: '設備 {id}',
    detail_close: '關閉',
    detail_topic: '主題',
    detail_measure: '措施',
    detail_sector: '部門',
    detail_connects: '連線方式',
    detail_disabled: '已於 {time} 由 {by} 停用：{reason}',
    rejections_heading: '最近被拒絕的訊息',
    rejections_none: '沒有被拒絕的訊息。',
    warnings_heading: '最近的警告',
    warnings_none: '沒有警告。',
    review_heading: '待審區間（能源辦公室審查）',
    review_none: '沒有待審區間。',
    review_unavailable: '審查佇列暫時無法讀取。',
    received_at: '收到於 {time}',
    raw_payload: '原始內容',
    warning_line: '{counter}：{quality}，{amount}（{t0} – {t1}）',
    review_line: '{counter}：{amount}（{t0} – {t1}）',
    rotate: '更換密鑰',
    rotate_confirm: '確定更換？舊密鑰會立即失效，使用中的連線會被中斷。',
    rotate_yes: '確定更換',
    cancel: '取消',
    new_secret: '新密鑰（只顯示這一次）',
    disable: '停用',
    disable_reason: '停用原因',
    disable_yes: '確定停用',
    enable: '重新啟用',
    reason_required: '請用幾個字說明原因。',
    action_failed: '操作失敗：{reason}',
    register_heading: '註冊設備',
    reg_kind: '種類',
    reg_site: '場址',
    reg_sector: '部門',
    reg_measure: '措施（選填）',
    reg_name: '名稱（選填）',
    reg_params: '參數 JSON（選填）',
    reg_params_invalid: '參數必須是 JSON 物件，例如 {"nameplate_kw":50}',
    reg_submit: '註冊',
    reg_done: '已註冊 {id}。密鑰只顯示這一次，請立即抄下。',
    reg_secret: '密鑰',
    reg_topic: '主題',
    reg_try: '用 mosquitto_pub 試送一筆讀值：',
    reg_ocpp: '充電樁的中央系統網址：{url}（識別碼 {id}，密碼為密鑰）',
    reg_failed: '註冊失敗：{reason}',
    upload_heading: '上傳 CSV 補登資料',
    upload_device: '設備',
    upload_file: 'CSV 檔（第一列為欄位名稱）',
    upload_tz: '時區',
    upload_pick: '選擇檔案',
    upload_no_file: '尚未選擇檔案',
    upload_submit: '上傳',
    upload_choose: '請先選擇設備與檔案。',
    upload_progress: '已送出 {done}／{total} 列',
    upload_report: '匯入 {rows} 列：新增 {imported}、重複 {duplicates}、衝突 {conflicts}、拒絕 {rejected}',
    upload_failed: '上傳在第 {line} 列停止：{reason}',
    upload_rejected_heading: '被拒絕的列',
    col_line: '列',
    col_field: '欄位',
    col_reason: '原因',
    field_reason: '{field}：{reason}',
  },
  en: {
    title: 'Operators — Kaohsiung net-zero meters',
    heading: 'Operators',
    switch_lang: '中文',
    login_heading: 'Log in',
    login_as_operator: 'Operator',
    login_as_admin: 'Admin',
    login_id: 'Operator id',
    login_secret: 'Operator secret',
    login_token: 'Admin token',
    login_submit: 'Log in',
    login_failed: 'Login failed: {reason}',
    logout: 'Log out',
    who_admin: 'Admin (every site)',
    who_operator: '{name} ({id}) · sites: {sites}',
    session_until: 'Logged in until {time}',
    filter_site: 'Site',
    filter_kind: 'Kind',
    filter_status: 'Status',
    filter_all: 'All',
    devices_heading: 'My devices',
    devices_count: '{total} devices, showing {from}–{to}',
    devices_none: 'No device matches.',
    prev_page: 'Previous',
    next_page: 'Next',
    col_device: 'Device',
    col_kind: 'Kind',
    col_site: 'Site',
    col_programme: 'Programme',
    col_status: 'Status',
    col_last_reading: 'Latest reading',
    col_last_seen: 'Last seen',
    col_counts: '24 h accepted / rejected / warned',
    col_review: 'To review',
    counts_since: 'counted since {time}',
    never: 'never',
    refreshing: 'Refreshes every {s} s',
    refresh_failed: 'Refresh failed: {reason}; retrying',
    kind_smart_meter: 'Smart meter',
    kind_pv_inverter: 'PV inverter',
    kind_biogas: 'Biogas',
    kind_ev_charger: 'EV charger',
    status_online: 'Online',
    status_offline: 'Offline',
    status_unknown: 'Unknown',
    status_disabled: 'Disabled',
    sector_industry: 'Industry',
    sector_residential_commercial: 'Residential & commercial',
    sector_transport: 'Transport',
    sector_environment: 'Environment',
    sector_agriculture: 'Agriculture',
    sector_forestry: 'Forestry',
    detail_heading: 'Device {id}',
    detail_close: 'Close',
    detail_topic: 'Topic',
    detail_measure: 'Measure',
    detail_sector: 'Sector',
    detail_connects: 'Connects by',
    detail_disabled: 'Disabled at {time} by {by}: {reason}',
    rejections_heading: 'Latest rejected messages',
    rejections_none: 'No rejected message.',
    warnings_heading: 'Latest warnings',
    warnings_none: 'No warning.',
    review_heading: 'Intervals awaiting review (energy office)',
    review_none: 'No interval awaits review.',
    review_unavailable: 'The review queue cannot be read right now.',
    received_at: 'Received {time}',
    raw_payload: 'Raw payload',
    warning_line: '{counter}: {quality}, {amount} ({t0} – {t1})',
    review_line: '{counter}: {amount} ({t0} – {t1})',
    rotate: 'Rotate secret',
    rotate_confirm: 'Rotate? The old secret stops working at once and open connections are closed.',
    rotate_yes: 'Rotate now',
    cancel: 'Cancel',
    new_secret: 'New secret (shown only this once)',
    disable: 'Disable',
    disable_reason: 'Why',
    disable_yes: 'Disable now',
    enable: 'Enable again',
    reason_required: 'Say why, in a few words.',
    action_failed: 'Failed: {reason}',
    register_heading: 'Register a device',
    reg_kind: 'Kind',
    reg_site: 'Site',
    reg_sector: 'Sector',
    reg_measure: 'Measure (optional)',
    reg_name: 'Name (optional)',
    reg_params: 'Params JSON (optional)',
    reg_params_invalid: 'Params must be a JSON object, e.g. {"nameplate_kw":50}',
    reg_submit: 'Register',
    reg_done: 'Registered {id}. The secret is shown only this once: copy it now.',
    reg_secret: 'Secret',
    reg_topic: 'Topic',
    reg_try: 'Send a reading with mosquitto_pub:',
    reg_ocpp: "The charger's central system URL: {url} (identity {id}, password the secret)",
    reg_failed: 'Registration failed: {reason}',
    upload_heading: 'Upload a CSV backfill',
    upload_device: 'Device',
    upload_file: 'CSV file (a header row first)',
    upload_tz: 'Time zone',
    upload_pick: 'Choose a file',
    upload_no_file: 'No file chosen',
    upload_submit: 'Upload',
    upload_choose: 'Choose a device and a file first.',
    upload_progress: '{done} / {total} rows sent',
    upload_report: '{rows} rows: {imported} imported, {duplicates} duplicates, {conflicts} conflicts, {rejected} rejected',
    upload_failed: 'The upload stopped at line {line}: {reason}',
    upload_rejected_heading: 'Rejected rows',
    col_line: 'Line',
    col_field: 'Field',
    col_reason: 'Reason',
    field_reason: '{field}: {reason}',
  },
};

let lang = 'zh-TW';

/** The language remembered in localStorage (zh-TW unless English was chosen). */
export function initLang() {
  let saved = null;
  try {
    saved = localStorage.getItem(LANG_KEY);
  } catch {
    saved = null;
  }
  setLang(LANGS.indexOf(saved) >= 0 ? saved : 'zh-TW', false);
  return lang;
}

export function currentLang() {
  return lang;
}

export function setLang(next, remember) {
  lang = LANGS.indexOf(next) >= 0 ? next : 'zh-TW';
  document.documentElement.lang = lang;
  if (remember) {
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch {
      /* private mode: the choice lasts this page */
    }
  }
  document.title = t('title');
  const nodes = document.querySelectorAll('[data-i18n]');
  for (let i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
}

/** The string `key` in the current language with {placeholders} filled in. */
export function t(key, vars) {
  const table = STRINGS[lang] || STRINGS['zh-TW'];
  const text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
  return text.replace(/\{(\w+)\}/g, function (m, name) {
    return vars && vars[name] !== undefined && vars[name] !== null ? String(vars[name]) : m;
  });
}

/** The label of an enumerated value (kind, status, sector) in the current language, or the value itself. */
export function label(group, value) {
  const key = group + '_' + value;
  const table = STRINGS[lang] || STRINGS['zh-TW'];
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : String(value);
}
